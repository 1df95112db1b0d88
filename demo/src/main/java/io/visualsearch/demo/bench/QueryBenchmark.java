package io.visualsearch.demo.bench;

import io.visualsearch.benchmarks.BenchOptions;
import io.visualsearch.benchmarks.BenchRun;
import io.visualsearch.benchmarks.JitActivity;
import io.visualsearch.defaultmodel.DefaultModelRunner;
import io.visualsearch.defaultmodel.DefaultModelSignatures;
import io.visualsearch.defaultmodel.ImageBatch;
import io.visualsearch.demo.SearchClient;
import io.visualsearch.modelclient.ImageTensors;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.samplecatalog.FashionMnist;
import io.visualsearch.samplecatalog.SampleImageServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * {@code ./visual-search bench query}: a shopper's query over HTTP, end to end (upload, decode,
 * model server over gRPC, FAISS shards and delta, merge, publish), against the raw in-process
 * model for the same image — measured alternately in the same run so both see the same machine;
 * between the two, the same image straight to the model server over gRPC, which splits the gap
 * into the model server's share and search-api's. Then the query rate at saturation with {@code
 * --clients} concurrent shoppers.
 *
 * <p>Last lines: {@code query_p50_vs_inprocess}, {@code query_p99_vs_inprocess} (target ≤ 1.15),
 * {@code query_p99_vs_100ms} (target ≤ 1), {@code query_qps}.
 */
public final class QueryBenchmark {

  private QueryBenchmark() {}

  public static void main(String[] args) {
    BenchRun.runAndExit(() -> run(args));
  }

  static void run(String[] args) throws Exception {
    BenchOptions o = new BenchOptions(args);
    int size = o.integer("size", 1000);
    int queries = o.integer("queries", 100);
    int rounds = o.integer("rounds", 4);
    int clients = o.integer("clients", 8);
    int saturationSeconds = o.integer("saturation-seconds", 15);
    int warmupSeconds = o.integer("warmup-seconds", 30);
    // The JDK keeps 5 idle connections per server by default: more shoppers than that would
    // reconnect on most requests and the saturation run would measure TCP set-up.
    System.setProperty("http.maxConnections", Integer.toString(Math.max(5, clients)));
    Path modelBase = Path.of(o.string("model-base", "default-model/target/models"));
    boolean keepPipeline = o.flag("keep-pipeline");
    String sampleRatio = o.string("trace-sample-ratio", "1.0");
    // Time between two measured calls (not measured): 0 sends them back to back; a pause lets the
    // previous query's asynchronous tail (its search.responses record, its spans) finish first.
    int pauseMs = o.integer("pause-ms", 0);
    // Settings for every service of the pipeline, e.g. --service-env='KAFKA_CLIENT_PROPERTIES=linger.ms=5'
    // (several separated by ';'), to measure a setting against the defaults.
    Map<String, String> serviceEnv = o.pairs("service-env");
    serviceEnv.putIfAbsent("TRACING_SAMPLE_RATIO", sampleRatio);
    o.rejectUnknown();

    FashionMnist dataset = FashionMnist.debian();
    System.out.println("bench query: " + size + " products, " + queries + " shopper photos (Fashion-MNIST test"
        + " images) x " + rounds + " rounds" + (pauseMs > 0 ? " (" + pauseMs + " ms between calls)" : "")
        + ", HTTP end to end vs in-process model; then " + clients
        + " clients for " + saturationSeconds + " s; trace sampling " + sampleRatio + "; cores=" + Runtime.getRuntime().availableProcessors()
        + (serviceEnv.size() > 1 ? "; service settings " + serviceEnv : ""));
    try (BenchDeployment d = BenchDeployment.ingested(dataset, size, modelBase,
            serviceEnv);
        DefaultModelRunner raw = DefaultModelRunner.load(latestVersion(modelBase.resolve("default")))) {
      if (!keepPipeline) {
        // In production the ingest side runs on other machines; on these 2 shared cores its
        // background work (index publications, similar-items jobs, archiving every answer)
        // would be measured as query latency. --keep-pipeline measures with it running.
        for (String s : List.of("catalog-downloader", "image-indexer", "embeddings-generator", "index-builder",
            "response-consumer")) {
          d.pipeline().stop(s);
        }
        System.out.println("measuring search-api + model-server alone (ingest side stopped; --keep-pipeline keeps it)");
      }
      FashionMnist.Split test = dataset.test();
      List<byte[]> photos = new ArrayList<>();
      List<BufferedImage> decoded = new ArrayList<>();
      List<ImageBatch> tensors = new ArrayList<>();
      for (int i = 0; i < queries; i++) {
        byte[] png = SampleImageServer.png(test.image(i));
        photos.add(png);
        decoded.add(ImageIO.read(new ByteArrayInputStream(png)));
        tensors.add(networkInput(png));
      }
      ModelClient grpc = d.modelClient();
      // Steady state, as production serves it: until the JIT has compiled the HTTP, JSON, gRPC
      // and search paths its background compiler threads compete with TensorFlow for the two
      // cores, and the path with the most code (HTTP) pays most. 20 queries each left it cold.
      long warmUntil = System.nanoTime() + Duration.ofSeconds(warmupSeconds).toNanos();
      for (int i = 0; i < 20 || System.nanoTime() < warmUntil; i++) {
        d.client().search(photos.get(i % queries), 10);
        grpc.embed(List.of(decoded.get(i % queries)));
        raw.run(DefaultModelSignatures.SERVING_DEFAULT, tensors.get(i % queries));
      }
      double[] http = new double[rounds * queries];
      double[] served = new double[rounds * queries];
      double[] model = new double[rounds * queries];
      int failed = 0;
      long measuredFrom = System.currentTimeMillis();
      JitActivity jit = JitActivity.start();
      for (int r = 0; r < rounds; r++) {
        // Alternating rounds: a spell of load elsewhere on the machine hits both sides alike.
        int offset = r * queries;
        failed += timeEach(queries, pauseMs, http, offset, i -> d.client().search(photos.get(i), 10).ok());
        // These two fail by throwing, which ends the benchmark.
        timeEach(queries, pauseMs, served, offset, i -> {
          grpc.embed(List.of(decoded.get(i)));
          return true;
        });
        timeEach(queries, pauseMs, model, offset, i -> {
          raw.run(DefaultModelSignatures.SERVING_DEFAULT, tensors.get(i));
          return true;
        });
      }
      long measuredTo = System.currentTimeMillis();
      // search-api, the model server and this client share the JVM; compiling competes with TensorFlow.
      System.out.printf(Locale.ROOT, "JIT compiling %.0f%% of a core over the measured calls%n",
          100 * jit.shareOfACore());
      Percentiles h = new Percentiles(http);
      Percentiles g = new Percentiles(served);
      Percentiles m = new Percentiles(model);
      System.out.printf(Locale.ROOT, "%-28s %10s %10s%n", "", "p50 ms", "p99 ms");
      System.out.printf(Locale.ROOT, "%-28s %10.1f %10.1f%n", "HTTP query end to end", h.at(50), h.at(99));
      System.out.printf(Locale.ROOT, "%-28s %10.1f %10.1f%n", "model server over gRPC", g.at(50), g.at(99));
      System.out.printf(Locale.ROOT, "%-28s %10.1f %10.1f%n", "in-process model", m.at(50), m.at(99));
      // The spread of the headline ratio within this run: on a shared machine it moves by more than
      // a change to the query path usually does, and one run's figure alone hides that.
      StringBuilder perRound = new StringBuilder("p50 HTTP / in-process by round:");
      for (int r = 0; r < rounds; r++) {
        int from = r * queries;
        double[] roundHttp = Arrays.copyOfRange(http, from, from + queries);
        double[] roundModel = Arrays.copyOfRange(model, from, from + queries);
        perRound.append(String.format(Locale.ROOT, " %.3f",
            new Percentiles(roundHttp).at(50) / new Percentiles(roundModel).at(50)));
      }
      System.out.println(perRound);
      if (!"0".equals(sampleRatio) && !"0.0".equals(sampleRatio)) {
        Thread.sleep(2_000); // the reporters send spans in the background, about once a second
        // Both the HTTP queries and the direct gRPC calls reach the model server.
        new SpanBreakdown(d.zipkinUrl()).print("model-server", measuredFrom, measuredTo, 2 * rounds * queries);
      }
      Saturation s = saturate(d.client(), photos, clients, saturationSeconds);
      System.out.printf(Locale.ROOT, "saturation: %d clients, %d answered, %d refused (503), %d failed%n", clients,
          s.ok, s.refused, s.failed);
      System.out.printf(Locale.ROOT, "query_failed=%d%n", failed + s.failed);
      System.out.printf(Locale.ROOT, "query_qps=%.1f%n", s.ok / (double) saturationSeconds);
      System.out.printf(Locale.ROOT, "query_p99_vs_100ms=%.3f%n", h.at(99) / 100.0);
      System.out.printf(Locale.ROOT, "query_p99_vs_inprocess=%.3f%n", h.at(99) / m.at(99));
      System.out.printf(Locale.ROOT, "query_p50_vs_inprocess=%.3f%n", h.at(50) / m.at(50));
    }
  }

  record Saturation(long ok, long refused, long failed) {}

  /** One measured call for query {@code i}; false when it failed. */
  @FunctionalInterface
  interface MeasuredCall {
    boolean run(int i) throws Exception;
  }

  /**
   * Calls {@code call} for each of {@code queries} photos, {@code pauseMs} apart (not measured),
   * writing each call's milliseconds from {@code into[offset]} on; returns how many failed. A
   * failed call is written as NaN, which {@link Percentiles} leaves out: a fast 401 or 503 is no
   * query answered, and counting it would lower the p50 and p99 the ratios are made of.
   */
  static int timeEach(int queries, int pauseMs, double[] into, int offset, MeasuredCall call) throws Exception {
    int failed = 0;
    for (int i = 0; i < queries; i++) {
      if (pauseMs > 0) {
        Thread.sleep(pauseMs);
      }
      long t = System.nanoTime();
      boolean ok = call.run(i);
      double millis = (System.nanoTime() - t) / 1e6;
      if (!ok) {
        failed++;
      }
      into[offset + i] = ok ? millis : Double.NaN;
    }
    return failed;
  }

  static Saturation saturate(SearchClient client, List<byte[]> photos, int clients, int seconds) throws Exception {
    AtomicLong ok = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<?>> running = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int offset = c;
      running.add(pool.submit(() -> {
        int i = offset;
        while (System.nanoTime() < deadline) {
          try {
            SearchClient.Answer a = client.search(photos.get(i++ % photos.size()), 10);
            (a.ok() ? ok : a.status() == 503 ? refused : failed).incrementAndGet();
          } catch (IOException e) {
            failed.incrementAndGet();
          }
        }
        return null;
      }));
    }
    for (Future<?> f : running) {
      f.get();
    }
    pool.shutdown();
    return new Saturation(ok.get(), refused.get(), failed.get());
  }

  /**
   * The photo as the model server receives it from search-api: shaped by model-client's own
   * {@link ImageTensors} with search-api's defaults (its own pixels when it fits 224 px, since the
   * graph resizes it; else resized to 224 px).
   */
  static ImageBatch networkInput(byte[] png) throws IOException {
    BufferedImage src = ImageIO.read(new ByteArrayInputStream(png));
    ImageTensors.Shape shape = ImageTensors.shapeFor(src, DefaultModelSignatures.EMBEDDING_SIZE, true);
    byte[] pixels = ImageTensors.toTensor(List.of(src), shape).getTensorContent().toByteArray();
    return new ImageBatch(pixels, 1, shape.height(), shape.width());
  }

  static Path latestVersion(Path model) throws IOException {
    try (Stream<Path> versions = Files.list(model)) {
      return versions.filter(p -> p.getFileName().toString().matches("\\d+"))
          .max((a, b) -> Long.compare(Long.parseLong(a.getFileName().toString()),
              Long.parseLong(b.getFileName().toString())))
          .orElseThrow(() -> new IOException("no model version under " + model));
    }
  }
}
