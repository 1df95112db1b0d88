package io.visualsearch.faiss.bench;

import io.visualsearch.faiss.BlasThreads;
import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.Metric;
import io.visualsearch.faiss.OpenMpThreads;
import io.visualsearch.faiss.SearchResult;
import io.visualsearch.faiss.python.LittleEndianArrays;
import io.visualsearch.faiss.python.PythonFaiss;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code bench faiss}: query throughput of the Java binding against the Python FAISS tools on
 * the same index file and the same queries, one query per call and batched.
 *
 * <p>Both sides use the same libfaiss build, OpenBLAS and OpenMP, with the same thread counts;
 * the Python side is a worker process. Timing is made of many short rounds alternating Java
 * and Python, and each side is scored by its best round: on a shared machine other processes
 * only ever add time, so the best round is the closest estimate of undisturbed speed, and
 * alternation gives both sides the same chances of a quiet moment. Before timing, the two
 * sides' results on the batch are compared. The last two lines are the machine-readable
 * ratios (Java QPS / Python QPS; 1.0 = parity) for IVF; Flat ratios come just before.
 *
 * <p>Options ({@code --name=value}): vectors (100000), dim (128), lists (1024), nprobe (16),
 * k (10), queries (2000 per batched call), single (500 one-per-call queries per round),
 * flatQueries (200), flatSingle (20), rounds (15), threads (1, OpenMP and OpenBLAS).
 */
public final class FaissBindingBenchmark {

    private final Map<String, Integer> options;

    private FaissBindingBenchmark(Map<String, Integer> options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        Map<String, Integer> options = new HashMap<>(Map.of(
                "vectors", 100_000, "dim", 128, "lists", 1024, "nprobe", 16, "k", 10,
                "queries", 2_000, "single", 500, "flatQueries", 200, "flatSingle", 20, "rounds", 15));
        // One OpenMP thread by default: the binding's overhead does not depend on it, and on a
        // shared machine OpenMP and OpenBLAS threads fighting over cores swamp the comparison.
        options.put("threads", 1);
        for (String arg : args) {
            String[] pair = arg.replaceFirst("^--", "").split("=", 2);
            if (pair.length != 2 || !options.containsKey(pair[0])) {
                System.err.println("unknown option " + arg + "; known: " + options.keySet());
                System.exit(2);
            }
            options.put(pair[0], Integer.parseInt(pair[1]));
        }
        Path python = PythonFaiss.configuredPython();
        Optional<String> unavailable = PythonFaiss.unavailableReason(python);
        if (unavailable.isPresent()) {
            System.err.println("bench faiss needs the Python FAISS tools: " + unavailable.get()
                    + " (apt-get install python3-faiss, or set " + PythonFaiss.PYTHON_ENV + ")");
            System.exit(2);
        }
        new FaissBindingBenchmark(options).run(python);
    }

    private int opt(String name) {
        return options.get(name);
    }

    private void run(Path python) throws IOException {
        int dim = opt("dim");
        int threads = opt("threads");
        OpenMpThreads.setForCurrentThread(threads);
        BlasThreads.setForProcess(threads);
        Path work = Files.createTempDirectory("faiss-bench");
        try (PythonFaiss py = PythonFaiss.start(python)) {
            py.setThreads(threads);
            System.out.printf(Locale.ROOT, "# FAISS %s (python) / libfaiss.a via JavaCPP (java), %d OpenMP + %d OpenBLAS threads, %s%n",
                    py.faissVersion(), OpenMpThreads.forCurrentThread(), BlasThreads.forProcess(), options);

            ClusteredVectors data = new ClusteredVectors(dim, 1000, 0.1f, 42);
            float[] base = data.sample(opt("vectors"), 1);
            float[] queries = data.sample(opt("queries"), 2);

            String ivfDescription = "IVF" + opt("lists") + ",Flat";
            Path ivfFile = work.resolve("ivf.faiss");
            Path flatFile = work.resolve("flat.faiss");
            long start = System.nanoTime();
            try (FaissIndex ivf = FaissIndex.create(dim, ivfDescription, Metric.L2)) {
                ivf.train(base);
                ivf.add(base);
                ivf.write(ivfFile);
            }
            System.out.printf(Locale.ROOT, "# built %s over %d x %d in %.1f s -> %s%n",
                    ivfDescription, opt("vectors"), dim, seconds(System.nanoTime() - start), ivfFile);
            try (FaissIndex flat = FaissIndex.create(dim, "Flat", Metric.L2)) {
                flat.add(base);
                flat.write(flatFile);
            }

            Ratios flat = compare(py, "Flat", flatFile, null, queries, opt("flatQueries"), opt("flatSingle"), work);
            Ratios ivf = compare(py, ivfDescription, ivfFile, "nprobe=" + opt("nprobe"), queries,
                    opt("queries"), opt("single"), work);

            System.out.printf(Locale.ROOT, "faiss_flat_java_vs_python_qps_single=%.3f%n", flat.single);
            System.out.printf(Locale.ROOT, "faiss_flat_java_vs_python_qps_batch=%.3f%n", flat.batch);
            System.out.printf(Locale.ROOT, "faiss_java_vs_python_qps_single=%.3f%n", ivf.single);
            System.out.printf(Locale.ROOT, "faiss_java_vs_python_qps_batch=%.3f%n", ivf.batch);
        } finally {
            deleteTree(work);
        }
    }

    private record Ratios(double single, double batch) {}

    private Ratios compare(PythonFaiss py, String label, Path indexFile, String parameters, float[] allQueries,
                           int batchCount, int singleCount, Path work) throws IOException {
        int rounds = opt("rounds");
        int dim = opt("dim");
        int k = opt("k");
        float[] batch = Arrays.copyOf(allQueries, batchCount * dim);
        Path queryFile = work.resolve(label.replaceAll("\\W", "_") + "-queries.f32");
        LittleEndianArrays.writeFloats(queryFile, batch);
        float[][] singles = new float[singleCount][];
        for (int i = 0; i < singleCount; i++) {
            singles[i] = Arrays.copyOfRange(allQueries, i * dim, (i + 1) * dim);
        }

        try (FaissIndex index = FaissIndex.read(indexFile)) {
            py.loadIndex(indexFile);
            if (parameters != null) {
                index.setParameters(parameters);
                py.setParameters(parameters);
            }
            py.loadQueries(queryFile);
            reportAgreement(py, label, index, batch, k, work);

            double[] javaSingle = new double[rounds];
            double[] pythonSingle = new double[rounds];
            double[] javaBatch = new double[rounds];
            double[] pythonBatch = new double[rounds];
            // One untimed round each warms the JIT, the page cache and the OpenMP pools.
            timeJavaSingle(index, singles, k);
            py.timeSingleQueries(k, singleCount);
            timeJavaBatch(index, batch, k);
            py.timeBatch(k);
            for (int round = 0; round < rounds; round++) {
                javaSingle[round] = timeJavaSingle(index, singles, k);
                pythonSingle[round] = py.timeSingleQueries(k, singleCount);
                javaBatch[round] = timeJavaBatch(index, batch, k);
                pythonBatch[round] = py.timeBatch(k);
            }
            String setting = label + (parameters == null ? "" : " " + parameters);
            double single = report(setting + " single", singleCount, javaSingle, pythonSingle);
            double batched = report(setting + " batch of " + batchCount, batchCount, javaBatch, pythonBatch);
            return new Ratios(single, batched);
        }
    }

    /** Prints both sides' best and median QPS; returns the best-round ratio. */
    private static double report(String what, int queries, double[] javaSeconds, double[] pythonSeconds) {
        double javaBest = queries / min(javaSeconds);
        double pythonBest = queries / min(pythonSeconds);
        double javaMedian = queries / median(javaSeconds);
        double pythonMedian = queries / median(pythonSeconds);
        System.out.printf(Locale.ROOT, "# %s: best round java %.0f qps, python %.0f qps; median round java %.0f, python %.0f (%d rounds)%n",
                what, javaBest, pythonBest, javaMedian, pythonMedian, javaSeconds.length);
        return javaBest / pythonBest;
    }

    /** A speed comparison is only meaningful if both sides computed the same answers. */
    private static void reportAgreement(PythonFaiss py, String label, FaissIndex index, float[] queries, int k, Path work)
            throws IOException {
        Path ids = work.resolve("py-ids.i64");
        Path distances = work.resolve("py-dist.f32");
        py.search(k, ids, distances);
        long[] pythonIds = LittleEndianArrays.readLongs(ids);
        SearchResult java = index.search(queries, k);
        long[] javaIds = java.allIds();
        int differing = 0;
        for (int i = 0; i < javaIds.length; i++) {
            if (javaIds[i] != pythonIds[i]) {
                differing++;
            }
        }
        System.out.printf(Locale.ROOT, "# %s: java and python agree on %d of %d result ids%n",
                label, javaIds.length - differing, javaIds.length);
    }

    private static double timeJavaSingle(FaissIndex index, float[][] queries, int k) {
        long checksum = 0;
        long start = System.nanoTime();
        for (float[] query : queries) {
            checksum += index.search(query, k).id(0, 0);
        }
        long elapsed = System.nanoTime() - start;
        if (checksum == Long.MIN_VALUE) {
            System.out.println("# unlikely checksum " + checksum);
        }
        return seconds(elapsed);
    }

    private static double timeJavaBatch(FaissIndex index, float[] queries, int k) {
        long start = System.nanoTime();
        index.search(queries, k);
        return seconds(System.nanoTime() - start);
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElseThrow();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path path : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
