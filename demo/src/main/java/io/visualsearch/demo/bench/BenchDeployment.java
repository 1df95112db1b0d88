package io.visualsearch.demo.bench;

import io.visualsearch.benchmarks.CloseOnSignal;
import io.visualsearch.config.Config;
import io.visualsearch.demo.IngestProbe;
import io.visualsearch.demo.LocalPipeline;
import io.visualsearch.demo.SampleShop;
import io.visualsearch.demo.SearchClient;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.modelclient.ModelClientSettings;
import io.visualsearch.runtime.HttpRequestDeadline;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.samplecatalog.FashionMnist;
import io.visualsearch.samplecatalog.SampleImageServer;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackSettings;
import io.visualsearch.tracing.Tracing;
import io.visualsearch.tracing.TracingSettings;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.io.file.PathUtils;

/**
 * The whole pipeline for a benchmark: the embedded stack on free ports in a temporary directory,
 * one sample retailer of {@code size} products, every service in this JVM; ingested before any
 * measurement starts.
 */
final class BenchDeployment implements AutoCloseable {

  static final String TENANT = "bench";
  static final String KEY = "bench-key-0123456789abcdef";
  /** The service name of the benchmark's own direct model-server calls in Zipkin. */
  static final String BENCH_CLIENT = "bench-client";

  private final Path dir;
  private final EmbeddedStack stack;
  private final SampleImageServer images;
  private SampleShop shop;
  private LocalPipeline pipeline;
  private Map<String, String> env;
  private SearchClient client;
  private URI base;
  private final HttpClient http = HttpClient.newHttpClient();
  private ModelClient modelClient;
  private Tracing modelClientTracing;
  /**
   * Ctrl-C or SIGTERM during a run, start-up included: stops the services and the stack's child
   * processes (Zipkin, the S3 server) in order, as a normal end does; without it they outlived the
   * benchmark, holding their ports and memory.
   */
  private final CloseOnSignal closer;

  private BenchDeployment(Path dir, EmbeddedStack stack, SampleImageServer images) {
    this.dir = dir;
    this.stack = stack;
    this.images = images;
    this.closer = new CloseOnSignal("stopping the deployment", this::teardown);
  }

  static BenchDeployment start(FashionMnist dataset, int size, Path modelBase, Map<String, String> extraEnv)
      throws Exception {
    return start(Path.of(System.getProperty("java.io.tmpdir")), dataset, size, modelBase, extraEnv);
  }

  /**
   * The deployment in a new {@code vs-bench-*} directory under {@code parent}. A start that fails
   * (a service refusing a --service-env setting, a port taken) stops whatever it had started and
   * deletes the directory before it throws.
   */
  static BenchDeployment start(Path parent, FashionMnist dataset, int size, Path modelBase,
      Map<String, String> extraEnv) throws Exception {
    // The services' limit, as in production; before the first HTTP server of this process.
    HttpRequestDeadline.apply(RuntimeSettings.definition().parse(Map.of()).get(RuntimeSettings.HTTP_REQUEST_TIMEOUT));
    Path dir = Files.createTempDirectory(parent, "vs-bench-");
    Config stackConfig = StackSettings.definition().parse(Map.of("STACK_KAFKA_PORT", "0",
        "STACK_KAFKA_CONTROLLER_PORT", "0", "STACK_S3_PORT", "0", "STACK_ZIPKIN_PORT", "0",
        "STACK_DATA_DIR", dir.resolve("stack").toString()));
    BenchDeployment d = new BenchDeployment(dir, new EmbeddedStack(stackConfig), new SampleImageServer(dataset, 0));
    try {
      d.startServices(dataset, size, modelBase, extraEnv);
      d.sync();
    } catch (Exception | Error e) {
      d.close();
      throw e;
    }
    return d;
  }

  private void startServices(FashionMnist dataset, int size, Path modelBase, Map<String, String> extraEnv)
      throws Exception {
    stack.start();
    images.start();
    shop = new SampleShop(TENANT, dir.resolve("feed.tsv"), dataset, images.baseUrl(), size);
    Map<String, String> services = new LinkedHashMap<>(stack.serviceEnvironment());
    services.put("MODEL_SERVER_BASE_PATH", modelBase.toAbsolutePath().toString());
    services.put("MODEL_SERVER_GRPC_PORT", "0");
    services.put("MODEL_SERVER_REST_PORT", "0");
    services.put("SEARCH_HTTP_PORT", "0");
    services.put("SEARCH_GRPC_PORT", "0");
    services.put("SEARCH_API_KEYS", TENANT + ":" + KEY);
    services.put("CATALOG_SOURCES", shop.source());
    services.put("CATALOG_FILE_FEED_ROOT", shop.feed().getParent().toAbsolutePath().normalize().toString());
    services.put("CATALOG_SYNC_INTERVAL", "0s");
    services.put("IMAGE_FETCH_ALLOW", "127.0.0.1/32");
    services.putAll(extraEnv);
    env = Map.copyOf(services);
    pipeline = new LocalPipeline(services);
    pipeline.start();
    base = URI.create("http://127.0.0.1:" + pipeline.searchApi().httpPort() + "/");
    client = new SearchClient(base, KEY);
  }

  /** Starts, then waits until every product is found first with its own photo: ingest is over. */
  static BenchDeployment ingested(FashionMnist dataset, int size, Path modelBase) throws Exception {
    return ingested(dataset, size, modelBase, Map.of());
  }

  static BenchDeployment ingested(FashionMnist dataset, int size, Path modelBase, Map<String, String> extraEnv)
      throws Exception {
    long t0 = System.nanoTime();
    BenchDeployment d = start(dataset, size, modelBase, extraEnv);
    try {
      if (!new IngestProbe(d.client, d.shop, size).await(Duration.ofMinutes(20), p -> System.out.println("  " + p))) {
        throw new IllegalStateException("catalog not searchable within 20 min");
      }
    } catch (Exception | Error e) {
      d.close();
      throw e;
    }
    System.out.printf(Locale.ROOT, "ingested %d products in %.1f s%n", size, (System.nanoTime() - t0) / 1e9);
    return d;
  }

  /** Asks catalog-downloader to sync the feed now, as a retailer's sync job does; waits for the diff. */
  void sync() throws IOException, InterruptedException {
    URI uri = URI.create("http://127.0.0.1:" + pipeline.opsPort("catalog-downloader") + "/sync?tenant=" + TENANT);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("sync answered " + r.statusCode() + ": " + r.body());
    }
  }

  String zipkinUrl() {
    return stack.zipkin().baseUrl();
  }

  SearchClient client() {
    return client;
  }

  URI base() {
    return base;
  }

  SampleShop shop() {
    return shop;
  }

  LocalPipeline pipeline() {
    return pipeline;
  }

  /**
   * A model client of this JVM's model server, configured and traced as search-api's is (same
   * Zipkin, same sample ratio, service "bench-client"), so its calls are comparable span for span.
   */
  ModelClient modelClient() {
    if (modelClient == null) {
      Config config = ModelClientSettings.definition().include(TracingSettings.definition()).parse(Map.of(
          "MODEL_SERVER_TARGET", "127.0.0.1:" + pipeline.modelServer().grpcPort(),
          "ZIPKIN_ENDPOINT", env.get("ZIPKIN_ENDPOINT"),
          "TRACING_SAMPLE_RATIO", env.getOrDefault("TRACING_SAMPLE_RATIO", "1.0")));
      modelClientTracing = Tracing.create(BENCH_CLIENT, BENCH_CLIENT, config);
      // As search-api calls it: the query bench compares the two paths to the same model server.
      modelClient = new ModelClient(config, modelClientTracing, ModelClient.Priority.INTERACTIVE);
      modelClient.start();
    }
    return modelClient;
  }

  @Override
  public void close() throws IOException {
    try {
      closer.close();
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void teardown() throws IOException {
    if (modelClient != null) {
      modelClient.close();
      modelClientTracing.close(); // flushes its last spans
    }
    if (pipeline != null) {
      pipeline.close();
    }
    images.close();
    stack.close();
    if (Files.exists(dir)) {
      PathUtils.deleteDirectory(dir);
    }
  }
}
