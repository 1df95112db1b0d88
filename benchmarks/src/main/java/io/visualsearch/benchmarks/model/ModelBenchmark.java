package io.visualsearch.benchmarks.model;

import io.visualsearch.benchmarks.BenchOptions;
import io.visualsearch.benchmarks.BenchRun;
import io.visualsearch.benchmarks.BenchStack;
import io.visualsearch.benchmarks.MachineLoad;
import io.visualsearch.config.Config;
import io.visualsearch.defaultmodel.DefaultModelRunner;
import io.visualsearch.defaultmodel.DefaultModelSignatures;
import io.visualsearch.modelserver.BatchStats;
import io.visualsearch.modelserver.ModelServer;
import io.visualsearch.modelserver.ModelServerService;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code ./visual-search bench model}, in one run and one JVM: (1) raw in-process TensorFlow per
 * signature (serving_default at 224 px; mixed7 and mixed10 at 299 px): batch-1 latency, batch-8
 * and batch-32 throughput; (2) the model server under {@code --clients} concurrent single-image
 * gRPC clients, against in-process batch-32 throughput; (3) the embeddings-generator end to end on
 * the embedded stack, against the same raw throughput; and the process's peak RSS.
 *
 * <p>Last lines: {@code model_server_vs_inprocess_throughput}, {@code
 * embeddings_generator_vs_raw_throughput} (target ≥ 0.90 each).
 */
public final class ModelBenchmark {

  private ModelBenchmark() {}

  public static void main(String[] args) {
    BenchRun.runAndExit(() -> run(args));
  }

  static void run(String[] args) throws Exception {
    BenchOptions o = new BenchOptions(args);
    Path modelBase = o.path("model-base", "default-model/target/models");
    double pointSeconds = o.decimal("point-seconds", 4);
    int clients = o.integer("clients", 16);
    double warmupSeconds = o.decimal("warmup-seconds", 1.5);
    double serverSeconds = o.decimal("server-seconds", 6);
    int rounds = o.integer("rounds", 4);
    // The generator phase measures steady state: its process (broker, AWS SDK, gRPC, generator)
    // compiles for minutes, and the compilers' share of the two cores came off the generator's
    // rate (0.76 after 3,200 images, 0.84-0.85 after 10,000-20,000, same evening; embeddings-
    // generator RATIONALE.md). So it warms with at least --generator-warmup images, then in rounds
    // until the JIT takes at most --generator-jit-quiet percent of a core over one, or
    // --generator-warmup-max images. Measured rounds of 320 images.
    int generatorWarmup = o.integer("generator-warmup", 3200);
    int generatorWarmupMax = o.integer("generator-warmup-max", 16000);
    double generatorJitQuiet = o.decimal("generator-jit-quiet", 5) / 100;
    int generatorImages = o.integer("generator-images", 1280);
    String traceSampleRatio = o.string("trace-sample-ratio", "0.1");
    boolean skipGenerator = o.flag("skip-generator");
    // Settings for the generator alone, e.g. --generator-env='KAFKA_MAX_POLL_RECORDS=500' (several
    // separated by ';'), to measure one against the defaults.
    Map<String, String> generatorEnv = new HashMap<>(o.pairs("generator-env"));
    String concurrency = o.string("generator-concurrency", null);
    if (concurrency != null) {
      generatorEnv.put("EMBEDDINGS_CONCURRENCY", concurrency);
    }
    // Model-server batching knobs; unset means the server's own defaults.
    Map<String, String> serverEnv = new HashMap<>();
    for (String knob : List.of("MODEL_SERVER_MAX_BATCH_SIZE", "MODEL_SERVER_BATCH_TIMEOUT",
        "MODEL_SERVER_BATCH_THREADS", "MODEL_SERVER_DISPATCH_WHEN_IDLE",
        "MODEL_SERVER_INTRA_OP_THREADS", "MODEL_SERVER_INTER_OP_THREADS")) {
      String v = o.string(knob.substring("MODEL_SERVER_".length()).toLowerCase(Locale.ROOT).replace('_', '-'), null);
      if (v != null) {
        serverEnv.put(knob, v);
      }
    }
    o.rejectUnknown();

    System.out.println(MachineLoad.now().header("bench model: raw TensorFlow vs model server (" + clients
        + " concurrent single-image gRPC clients) vs embeddings-generator end to end, default model"));
    Path versionDir = latestVersion(modelBase.resolve("default"));

    // 1. Raw in-process TensorFlow. The runner stays loaded: phases 2 and 3 alternate with it.
    try (DefaultModelRunner model = DefaultModelRunner.load(versionDir)) {
      InProcessModelBench bench = new InProcessModelBench(model, pointSeconds);
      List<InProcessModelBench.Result> raw = List.of(
          bench.measure(DefaultModelSignatures.SERVING_DEFAULT, DefaultModelSignatures.EMBEDDING_SIZE),
          bench.measure(DefaultModelSignatures.MIXED7, DefaultModelSignatures.NATIVE_SIZE),
          bench.measure(DefaultModelSignatures.MIXED10, DefaultModelSignatures.NATIVE_SIZE));
      System.out.printf("%-16s %5s %14s %14s %15s%n", "in-process", "px", "batch1 ms", "batch8 img/s", "batch32 img/s");
      for (InProcessModelBench.Result r : raw) {
        System.out.printf(Locale.ROOT, "%-16s %5d %14.1f %14.1f %15.1f%n", r.signature(), r.size(),
            r.batch1MedianMs(), r.batch8ImagesPerSecond(), r.batch32ImagesPerSecond());
      }
      // Other processes only ever add time, so each side scores its best of several short rounds,
      // alternated so that both sides see the same spells of load.
      RoundBest rawBest = new RoundBest();
      Runnable rawRound = () -> rawBest.add(bench.round(DefaultModelSignatures.SERVING_DEFAULT,
          DefaultModelSignatures.EMBEDDING_SIZE, 32));

      // 2. The model server under concurrent single-image clients (serving_default at 224 px).
      Map<String, String> env = new HashMap<>(Map.of("MODEL_SERVER_BASE_PATH", modelBase.toString(),
          "MODEL_SERVER_GRPC_PORT", "0", "MODEL_SERVER_REST_PORT", "-1", "OPS_PORT", "0", "ZIPKIN_ENDPOINT", "none"));
      env.putAll(serverEnv);
      Config config = ModelServerService.definition().include(RuntimeSettings.definition()).parse(env);
      RoundBest servedBest = new RoundBest();
      BatchStats stats;
      double latency = 0;
      long failures = 0;
      try (ServiceHost host = new ServiceHost(ModelServerService.NAME)) {
        ModelServer server = ModelServerService.wire(config, host);
        host.start();
        ServerThroughputBench load = new ServerThroughputBench("127.0.0.1:" + server.grpcPort(), clients);
        for (int r = 0; r < rounds; r++) {
          rawRound.run();
          ServerThroughputBench.Result res = load.run(DefaultModelSignatures.SERVING_DEFAULT,
              DefaultModelSignatures.INPUT, DefaultModelSignatures.EMBEDDING_SIZE, warmupSeconds, serverSeconds);
          servedBest.add(res.imagesPerSecond());
          latency += res.meanLatencyMs() / rounds;
          failures += res.failures();
        }
        stats = server.batchStats();
      }
      System.out.printf(Locale.ROOT, "model server, %d clients: best %.1f img/s (rounds %s), mean latency %.0f ms, "
              + "%d failed, %.1f requests per TensorFlow run (batch knobs: %s); raw batch-32 best %.1f (rounds %s)%n",
          clients, servedBest.best(), servedBest, latency, failures, stats.requestsPerRun(),
          serverEnv.isEmpty() ? "server defaults" : serverEnv, rawBest.best(), rawBest);
      double serverRatio = servedBest.best() / rawBest.best();

      // 3. The embeddings-generator end to end.
      double generatorRatio = Double.NaN;
      if (!skipGenerator) {
        RoundBest genRaw = new RoundBest();
        RoundBest genBest = new RoundBest();
        Path stackDir = Files.createDirectories(Path.of("data/bench")).resolve("stack-" + ProcessHandle.current().pid());
        try (BenchStack stack = BenchStack.start(stackDir)) {
          for (GeneratorThroughputBench.Result r : new GeneratorThroughputBench(stack.stack(), modelBase.toString(), serverEnv,
              generatorEnv, traceSampleRatio)
              .run(new GeneratorThroughputBench.Warmup(generatorWarmup, generatorWarmupMax, generatorJitQuiet), rounds,
                  generatorImages / rounds, () -> genRaw.add(bench.round(
                  DefaultModelSignatures.SERVING_DEFAULT, DefaultModelSignatures.EMBEDDING_SIZE, 32)))) {
            genBest.add(r.imagesPerSecond());
            System.out.printf(Locale.ROOT, "  generator round: %.1f img/s; model server: %.1f rows per TensorFlow run, "
                    + "TensorFlow busy %.0f%% of the round, %.1f ms of TensorFlow per image; JIT compiling %.0f%% of a core%n",
                r.imagesPerSecond(), r.batches().rowsPerRun(), 100 * r.tensorflowBusy(),
                r.batches().runNanos() / 1e6 / r.images(), 100 * r.jitShare());
          }
        }
        System.out.printf(Locale.ROOT, "embeddings-generator: best %.1f img/s (rounds of %d images.ready records: %s), "
                + "raw batch-32 best %.1f (rounds %s); trace sampling %s; generator settings %s%n", genBest.best(),
            generatorImages / rounds, genBest, genRaw.best(), genRaw, traceSampleRatio,
            generatorEnv.isEmpty() ? "defaults" : generatorEnv);
        generatorRatio = genBest.best() / genRaw.best();
      }

      System.out.printf("# peak RSS %d MiB (this JVM: TensorFlow, model server, Kafka broker, generator; "
          + "s3proxy and Zipkin run as child processes)%n", MachineLoad.now().peakRssBytes() >> 20);
      System.out.println(MachineLoad.now().header("end of bench model"));
      System.out.printf(Locale.ROOT, "model_server_vs_inprocess_throughput=%.2f%n", serverRatio);
      if (!skipGenerator) {
        System.out.printf(Locale.ROOT, "embeddings_generator_vs_raw_throughput=%.2f%n", generatorRatio);
      }
    }
  }

  /** The highest integer version directory of a model. */
  static Path latestVersion(Path modelDir) throws java.io.IOException {
    try (Stream<Path> s = Files.list(modelDir)) {
      return s.filter(p -> p.getFileName().toString().matches("\\d+") && Files.exists(p.resolve("saved_model.pb")))
          .max(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString())))
          .orElseThrow(() -> new IllegalStateException("no SavedModel version under " + modelDir
              + " (build module default-model first)"));
    }
  }
}
