package io.visualsearch.faiss.python;

import io.visualsearch.faiss.Metric;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A Python process running the Python FAISS tools, driven line by line (see faiss_worker.py).
 * Used to hold the Java binding to the same results and speed as Python FAISS on the same
 * index files. One worker holds one loaded index and one query set at a time.
 */
public final class PythonFaiss implements AutoCloseable {

    /** Environment variable naming the interpreter; Debian's python3-faiss belongs to the system python. */
    public static final String PYTHON_ENV = "FAISS_PYTHON";
    public static final Path DEFAULT_PYTHON = Path.of("/usr/bin/python3");

    private static final String SCRIPT_RESOURCE = "faiss_worker.py";

    private final Process process;
    private final BufferedWriter commands;
    private final BufferedReader replies;
    private final Path scriptDir;
    private final String faissVersion;

    private PythonFaiss(Process process, Path scriptDir) throws IOException {
        this.process = process;
        this.scriptDir = scriptDir;
        this.commands = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        this.replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String hello = replies.readLine();
        if (hello == null || !hello.startsWith("ready\t")) {
            throw new IOException("python FAISS worker did not start (said: " + hello + ")");
        }
        this.faissVersion = hello.substring("ready\t".length());
    }

    /** The interpreter from {@value #PYTHON_ENV}, else {@code /usr/bin/python3}. */
    public static Path configuredPython() {
        String configured = System.getenv(PYTHON_ENV);
        return configured == null || configured.isBlank() ? DEFAULT_PYTHON : Path.of(configured);
    }

    /** Empty when {@code python -c "import faiss"} works, else why it does not. */
    public static Optional<String> unavailableReason(Path python) {
        if (!Files.isExecutable(python)) {
            return Optional.of(python + " is not an executable file");
        }
        try {
            Process probe = new ProcessBuilder(python.toString(), "-c", "import faiss, numpy")
                    .redirectErrorStream(true)
                    .start();
            String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!probe.waitFor(60, TimeUnit.SECONDS)) {
                probe.destroyForcibly();
                return Optional.of(python + " did not finish 'import faiss' within 60 s");
            }
            if (probe.exitValue() != 0) {
                return Optional.of(python + " cannot import faiss (Debian package python3-faiss): " + output);
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("cannot run " + python + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while probing " + python);
        }
    }

    public static PythonFaiss start(Path python) throws IOException {
        Path scriptDir = Files.createTempDirectory("faiss-worker");
        Path script = scriptDir.resolve(SCRIPT_RESOURCE);
        try (InputStream in = PythonFaiss.class.getResourceAsStream(SCRIPT_RESOURCE)) {
            if (in == null) {
                throw new IOException("resource " + SCRIPT_RESOURCE + " missing from the classpath");
            }
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        Process process = new ProcessBuilder(python.toString(), "-u", script.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            return new PythonFaiss(process, scriptDir);
        } catch (IOException | RuntimeException e) {
            process.destroyForcibly();
            deleteQuietly(scriptDir, script);
            throw e;
        }
    }

    public String faissVersion() {
        return faissVersion;
    }

    /** Sets the worker's OpenMP thread count; returns what FAISS reports back. */
    public int setThreads(int threads) throws IOException {
        return Integer.parseInt(call("threads", Integer.toString(threads)).get(0));
    }

    /** Loads an index file; returns its ntotal. */
    public long loadIndex(Path file) throws IOException {
        return Long.parseLong(call("load", file.toAbsolutePath().toString()).get(1));
    }

    public void setParameters(String parameters) throws IOException {
        call("params", parameters);
    }

    /** Loads row-major little-endian float32 queries of the loaded index's dimension; returns their count. */
    public int loadQueries(Path file) throws IOException {
        return Integer.parseInt(call("queries", file.toAbsolutePath().toString()).get(0));
    }

    /** Searches all loaded queries at once and writes int64 ids and float32 distances (n × k). */
    public void search(int k, Path idsOut, Path distancesOut) throws IOException {
        call("search", Integer.toString(k), idsOut.toAbsolutePath().toString(), distancesOut.toAbsolutePath().toString());
    }

    /** Seconds Python takes to search the first {@code count} queries one per call. */
    public double timeSingleQueries(int k, int count) throws IOException {
        return Double.parseDouble(call("time_single", Integer.toString(k), Integer.toString(count)).get(0));
    }

    /** Seconds Python takes to search all loaded queries in one call. */
    public double timeBatch(int k) throws IOException {
        return Double.parseDouble(call("time_batch", Integer.toString(k)).get(0));
    }

    /** Builds an index with Python FAISS (index_factory, train, add) and writes it; returns its ntotal. */
    public long buildIndex(String factoryString, Metric metric, Path vectors, int dimension, Path indexOut)
            throws IOException {
        return Long.parseLong(call("build", factoryString, metric.name(), vectors.toAbsolutePath().toString(),
                Integer.toString(dimension), indexOut.toAbsolutePath().toString()).get(0));
    }

    @Override
    public void close() {
        try {
            commands.write("quit\n");
            commands.flush();
        } catch (IOException e) {
            // The process is gone already; destroy below covers it.
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        deleteQuietly(scriptDir, scriptDir.resolve(SCRIPT_RESOURCE));
    }

    private List<String> call(String command, String... args) throws IOException {
        for (String arg : args) {
            if (arg.indexOf('\t') >= 0 || arg.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("argument must not contain tabs or newlines: " + arg);
            }
        }
        StringBuilder line = new StringBuilder(command);
        for (String arg : args) {
            line.append('\t').append(arg);
        }
        commands.write(line.append('\n').toString());
        commands.flush();
        String reply = replies.readLine();
        if (reply == null) {
            throw new IOException("python FAISS worker exited during '" + command + "'");
        }
        List<String> fields = new ArrayList<>(Arrays.asList(reply.split("\t", -1)));
        String status = fields.remove(0);
        if (!"ok".equals(status)) {
            throw new IOException("python FAISS '" + command + "' failed: " + String.join(" ", fields));
        }
        return fields;
    }

    private static void deleteQuietly(Path dir, Path script) {
        try {
            Files.deleteIfExists(script);
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // A leftover temp file is harmless.
        }
    }
}
