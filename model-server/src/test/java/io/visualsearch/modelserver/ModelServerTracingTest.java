package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.config.Config;
import io.visualsearch.modelclient.Embeddings;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.modelclient.ModelClientSettings;
import io.visualsearch.tracing.Tracing;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Traces across the wire: the product's own {@link ModelClient} (CLIENT spans, W3C context in
 * gRPC metadata) calling the real server (SERVER spans, one span per TensorFlow run), each side
 * with its own SDK and in-memory exporter, as two services would be.
 */
class ModelServerTracingTest {

  static final AttributeKey<Long> BATCH_ROWS = AttributeKey.longKey("batch.rows");
  static final AttributeKey<Long> BATCH_REQUESTS = AttributeKey.longKey("batch.requests");
  static final AttributeKey<String> RUN_SPAN = AttributeKey.stringKey("batch.run_span_id");

  @TempDir
  Path base;

  final InMemorySpanExporter serverSpans = InMemorySpanExporter.create();
  final InMemorySpanExporter clientSpans = InMemorySpanExporter.create();
  final Tracing serverTracing = Tracing.withExporter("model-server", serverSpans);
  final Tracing clientTracing = Tracing.withExporter("embeddings-generator", clientSpans);
  final List<AutoCloseable> cleanup = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      cleanup.get(i).close();
    }
    serverTracing.close();
    clientTracing.close();
  }

  ModelServer server(ModelServerSettings settings) throws Exception {
    ModelServer server = new ModelServer(settings, serverTracing, new PrometheusRegistry());
    cleanup.add(server);
    server.start();
    return server;
  }

  ModelClient client(ModelServer server) {
    Config config = ModelClientSettings.definition().parse(Map.of(
        "MODEL_SERVER_TARGET", "127.0.0.1:" + server.grpcPort(),
        "MODEL_INPUT", "image",
        "MODEL_IMAGE_SIZE", "32",
        "MODEL_DEADLINE", "60s"));
    ModelClient client = new ModelClient(config, clientTracing);
    client.start();
    cleanup.add(client);
    return client;
  }

  static BufferedImage image(Color color) {
    BufferedImage img = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
    var g = img.createGraphics();
    g.setColor(color);
    g.fillRect(0, 0, 40, 30);
    g.setColor(color.darker());
    g.fillOval(10, 5, 20, 20);
    g.dispose();
    return img;
  }

  @Test
  void predictThroughModelClientContinuesTheCallersTraceDownToTheTensorFlowRun() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    ModelServer server = server(ModelServerSettings.from(ModelServerSettings.defaultConfig(base)
        .with(ModelServerSettings.GRPC_PORT, 0).with(ModelServerSettings.REST_PORT, -1)));
    ModelClient client = client(server);

    Span parent = clientTracing.tracer().spanBuilder("embed product").startSpan();
    Embeddings embeddings;
    try (Scope ignored = parent.makeCurrent()) {
      embeddings = client.embed(List.of(image(Color.RED)));
    } finally {
      parent.end();
    }
    assertEquals(TestSavedModels.EMBEDDING_DIM, embeddings.dimension());
    clientTracing.flush();
    serverTracing.flush();

    String traceId = parent.getSpanContext().getTraceId();
    SpanData clientSpan = only(clientSpans.getFinishedSpanItems(), SpanKind.CLIENT);
    assertEquals(traceId, clientSpan.getTraceId());
    assertEquals(parent.getSpanContext().getSpanId(), clientSpan.getParentSpanId());

    SpanData serverSpan = only(serverSpans.getFinishedSpanItems(), SpanKind.SERVER);
    assertEquals("tensorflow.serving.PredictionService/Predict", serverSpan.getName());
    assertEquals(traceId, serverSpan.getTraceId(), "the server continues the client's trace");
    assertEquals(clientSpan.getSpanId(), serverSpan.getParentSpanId(), "the server span is the client span's child");
    assertEquals("model-server", serverSpan.getResource().getAttribute(AttributeKey.stringKey("service.name")));

    SpanData run = only(serverSpans.getFinishedSpanItems(), SpanKind.INTERNAL);
    assertEquals("tensorflow.run serving_default", run.getName());
    assertEquals(traceId, run.getTraceId());
    assertEquals(serverSpan.getSpanId(), run.getParentSpanId());
    assertEquals(1L, run.getAttributes().get(BATCH_ROWS));
    assertEquals(1L, run.getAttributes().get(BATCH_REQUESTS));
    EventData batched = batchedEvent(serverSpan);
    assertEquals(run.getSpanId(), batched.getAttributes().get(RUN_SPAN));
  }

  /** search-api's client marks its calls interactive; the generator's (and TF Serving's clients') carry nothing. */
  @Test
  void aShoppersCallRunsAsInteractiveAndCatalogWorkAsBulk() throws Exception {
    assertEquals(ModelClient.PRIORITY_HEADER, RequestPriority.HEADER.name());
    assertEquals(ModelClient.INTERACTIVE, RequestPriority.INTERACTIVE);
    TestSavedModels.exportVersion(base, "default", 1);
    ModelServer server = server(ModelServerSettings.from(ModelServerSettings.defaultConfig(base)
        .with(ModelServerSettings.GRPC_PORT, 0).with(ModelServerSettings.REST_PORT, -1)));
    Config config = ModelClientSettings.definition().parse(Map.of(
        "MODEL_SERVER_TARGET", "127.0.0.1:" + server.grpcPort(), "MODEL_INPUT", "image", "MODEL_IMAGE_SIZE", "32",
        "MODEL_DEADLINE", "60s"));
    for (ModelClient.Priority priority : ModelClient.Priority.values()) {
      try (ModelClient client = new ModelClient(config, clientTracing, priority)) {
        client.start();
        client.embed(List.of(image(Color.RED)));
      }
    }
    serverTracing.flush();
    List<String> runs = serverSpans.getFinishedSpanItems().stream().filter(s -> s.getKind() == SpanKind.INTERNAL)
        .map(s -> s.getAttributes().get(AttributeKey.stringKey("batch.priority"))).toList();
    assertEquals(List.of("interactive", "bulk"), runs);
  }

  @Test
  void aMergedBatchIsOneRunParentedByTheOldestRequestAndLinkedToTheOthers() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    // A timeout far beyond the test: the batch can only start by filling up with all 4 requests.
    ModelServer server = server(ModelServerSettings.from(ModelServerSettings.defaultConfig(base)
        .with(ModelServerSettings.REST_PORT, -1).with(ModelServerSettings.GRPC_PORT, 0)
        .with(ModelServerSettings.MAX_BATCH_SIZE, 4).with(ModelServerSettings.BATCH_TIMEOUT, Duration.ofMinutes(5))
        .with(ModelServerSettings.DISPATCH_WHEN_IDLE, false)));
    ModelClient client = client(server);
    ExecutorService callers = Executors.newFixedThreadPool(4);
    cleanup.add(callers::shutdownNow);
    List<Span> parents = new ArrayList<>();
    List<Future<Embeddings>> answers = new ArrayList<>();
    Color[] colors = {Color.RED, Color.GREEN, Color.BLUE, Color.ORANGE};
    for (Color color : colors) {
      Span parent = clientTracing.tracer().spanBuilder("embed " + color).startSpan();
      parents.add(parent);
      answers.add(callers.submit(() -> {
        try (Scope ignored = parent.makeCurrent()) {
          return client.embed(List.of(image(color)));
        } finally {
          parent.end();
        }
      }));
    }
    for (Future<Embeddings> f : answers) {
      assertEquals(TestSavedModels.EMBEDDING_DIM, f.get(60, TimeUnit.SECONDS).dimension());
    }
    serverTracing.flush();

    List<SpanData> servers = ofKind(serverSpans.getFinishedSpanItems(), SpanKind.SERVER);
    assertEquals(parents.stream().map(p -> p.getSpanContext().getTraceId()).collect(Collectors.toSet()),
        servers.stream().map(SpanData::getTraceId).collect(Collectors.toSet()), "one server span per caller trace");
    SpanData run = only(serverSpans.getFinishedSpanItems(), SpanKind.INTERNAL);
    assertEquals(4L, run.getAttributes().get(BATCH_REQUESTS));
    assertEquals(4L, run.getAttributes().get(BATCH_ROWS));

    SpanData owner = servers.stream().filter(s -> s.getSpanId().equals(run.getParentSpanId())).findFirst()
        .orElseThrow(() -> new AssertionError("the run is not a child of any request's server span"));
    assertEquals(owner.getTraceId(), run.getTraceId());
    Set<String> linked = run.getLinks().stream().map(LinkData::getSpanContext)
        .map(c -> c.getTraceId() + "/" + c.getSpanId()).collect(Collectors.toSet());
    Set<String> others = servers.stream().filter(s -> s != owner)
        .map(s -> s.getTraceId() + "/" + s.getSpanId()).collect(Collectors.toSet());
    assertEquals(others, linked, "the run links every other request it served");
    for (SpanData s : servers) {
      EventData batched = batchedEvent(s);
      assertEquals(run.getSpanId(), batched.getAttributes().get(RUN_SPAN));
      assertEquals(4L, batched.getAttributes().get(BATCH_ROWS));
    }
  }

  @Test
  void restPredictContinuesAW3cTraceparent() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    ModelServer server = server(ModelServerSettings.from(ModelServerSettings.defaultConfig(base)
        .with(ModelServerSettings.GRPC_PORT, 0).with(ModelServerSettings.REST_PORT, 0)));
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    String callerSpan = "00f067aa0ba902b7";
    String body = "{\"instances\": [{\"image\": [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]}]}";
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + server.restPort() + "/v1/models/default:predict"))
        .header("traceparent", "00-" + traceId + "-" + callerSpan + "-01")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    // The REST handler ends its span after the response is on the wire: wait for it to finish.
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    while (ofKind(serverSpans.getFinishedSpanItems(), SpanKind.SERVER).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    serverTracing.flush();

    SpanData serverSpan = only(serverSpans.getFinishedSpanItems(), SpanKind.SERVER);
    assertEquals("POST /v1/models/{model}:predict", serverSpan.getName());
    assertEquals(traceId, serverSpan.getTraceId());
    assertEquals(callerSpan, serverSpan.getParentSpanId());
    assertEquals(200L, serverSpan.getAttributes().get(AttributeKey.longKey("http.response.status_code")));
    SpanData run = only(serverSpans.getFinishedSpanItems(), SpanKind.INTERNAL);
    assertEquals(serverSpan.getSpanId(), run.getParentSpanId());
  }

  static List<SpanData> ofKind(List<SpanData> spans, SpanKind kind) {
    return spans.stream().filter(s -> s.getKind() == kind).toList();
  }

  static SpanData only(List<SpanData> spans, SpanKind kind) {
    List<SpanData> matching = ofKind(spans, kind);
    assertEquals(1, matching.size(), () -> "expected one " + kind + " span, got " + matching);
    return matching.get(0);
  }

  static EventData batchedEvent(SpanData span) {
    List<EventData> events = span.getEvents().stream().filter(e -> e.getName().equals("batched")).toList();
    assertEquals(1, events.size(), () -> "expected one 'batched' event on " + span);
    assertTrue(events.get(0).getAttributes().get(BATCH_ROWS) >= 1);
    return events.get(0);
  }
}
