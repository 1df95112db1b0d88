package io.visualsearch.cluster;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code wrk} against {@code POST /api/v1/search}: a Lua script sets the method, the
 * Bearer key and a JSON body carrying a real catalog photo (base64), so every request runs the
 * whole query path (decode, embed on the model server, shard search). One thread per two
 * connections at most: wrk's event loop needs little CPU and the machine has two cores.
 */
public final class WrkRunner {

  private final Path script;
  private final Path output;
  private final URI target;

  public WrkRunner(Path workDir, URI searchBase, String apiKey, byte[] photo) throws IOException {
    Files.createDirectories(workDir);
    this.script = workDir.resolve("search.lua");
    this.output = workDir.resolve("wrk.out");
    this.target = searchBase.resolve("/api/v1/search");
    String body = SearchClient.body(photo, 10);
    String lua = "wrk.method = \"POST\"\n"
        + "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
        + "wrk.headers[\"Authorization\"] = \"Bearer " + apiKey + "\"\n"
        + "wrk.body = [[" + body + "]]\n";
    Files.writeString(script, lua, StandardCharsets.UTF_8);
  }

  public static boolean available() {
    return Files.isExecutable(Path.of("/usr/bin/wrk"));
  }

  public WrkResult run(Duration duration, int connections) throws IOException, InterruptedException {
    int threads = Math.max(1, Math.min(2, connections / 2));
    List<String> cmd = List.of("wrk", "-t" + threads, "-c" + connections, "-d" + duration.toSeconds() + "s",
        "--timeout", "10s", "--latency", "-s", script.toString(), target.toString());
    return WrkResult.parse(runBounded(cmd, output, duration.plusSeconds(60)));
  }

  /**
   * Runs {@code cmd} with its output in {@code outputFile} and returns that output. The process is
   * killed when it has not exited within {@code timeout}: reading its output from a pipe instead
   * would wait for the end of the stream first, i.e. forever for a hung wrk.
   */
  static String runBounded(List<String> cmd, Path outputFile, Duration timeout) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(outputFile.toFile()).start();
    boolean exited = false;
    try {
      exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } finally {
      if (!exited) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
    String text = Files.readString(outputFile, StandardCharsets.UTF_8);
    if (!exited) {
      throw new IOException(cmd.get(0) + " did not finish within " + timeout + " and was killed; output: " + text);
    }
    if (p.exitValue() != 0) {
      throw new IOException(cmd.get(0) + " failed with exit " + p.exitValue() + ": " + text);
    }
    return text;
  }
}
