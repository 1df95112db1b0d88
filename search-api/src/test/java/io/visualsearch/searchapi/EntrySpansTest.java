package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.proto.search.SimilarRequest;
import io.visualsearch.proto.search.VisualSearchGrpc;
import io.visualsearch.runtime.ReadinessReport;
import io.visualsearch.searchapi.auth.ApiKeys;
import io.visualsearch.searchapi.auth.Authenticator;
import io.visualsearch.searchapi.grpc.SearchGrpcServer;
import io.visualsearch.searchapi.grpc.VisualSearchService;
import io.visualsearch.searchapi.http.Admission;
import io.visualsearch.searchapi.http.ApiRoutes;
import io.visualsearch.searchapi.http.HttpApi;
import io.visualsearch.searchapi.http.SearchRequestParser;
import io.visualsearch.searchapi.http.UploadBudget;
import io.visualsearch.tracing.Tracing;
import io.visualsearch.tracing.TracingSettings;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The API's entry spans start traces of ours: a caller's sampled {@code traceparent} neither
 * decides what is recorded nor names the trace, and is kept as a link. The real HTTP and gRPC
 * servers, answering calls without a key (the span starts before the key is checked).
 */
class EntrySpansTest {

  static final String CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";
  static final String CALLER_SPAN = "b7ad6b7169203331";
  static final String SAMPLED_PARENT = "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-01";
  static final int CALLS = 50;

  final List<AutoCloseable> open = new ArrayList<>();
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @AfterEach
  void close() throws Exception {
    Collections.reverse(open);
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  @Test
  void atRatioZeroCallersWithASampledParentHaveNothingRecorded() throws Exception {
    FakeZipkin zipkin = new FakeZipkin();
    open.add(zipkin);
    Tracing tracing = Tracing.create("search-api", "test", TracingSettings.definition().parse(Map.of(
        "ZIPKIN_ENDPOINT", zipkin.endpoint(), "TRACING_SAMPLE_RATIO", "0")));
    open.add(tracing);
    int httpPort = startHttp(tracing);
    ManagedChannel channel = startGrpc(tracing);

    for (int i = 0; i < CALLS; i++) {
      assertEquals(401, get(httpPort, i % 2 == 0 ? "w3c" : "b3").statusCode());
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER), SAMPLED_PARENT);
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> similar(channel, md));
      assertEquals(Status.Code.UNAUTHENTICATED, refused.getStatus().getCode());
    }
    // The exporter works, and an internal hop (a Kafka record's context) still follows its parent.
    // Exported after the requests' spans would have been: once it has arrived, it is all there is.
    SpanContext recordParent = SpanContext.createFromRemoteParent(CALLER_TRACE, CALLER_SPAN, TraceFlags.getSampled(),
        TraceState.getDefault());
    tracing.tracer().spanBuilder("embeddings follow").setParent(Context.root().with(Span.wrap(recordParent)))
        .startSpan().end();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
      tracing.flush();
      return zipkin.traceIds().contains(CALLER_TRACE);
    });
    assertEquals(List.of(CALLER_TRACE), zipkin.traceIds(), "no span of a caller-sampled request was exported");
  }

  @Test
  void atRatioOneAnHttpRequestStartsItsOwnTraceLinkedToTheCallers() throws Exception {
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    Tracing tracing = Tracing.withExporter("search-api", spans);
    open.add(tracing);
    int port = startHttp(tracing);
    for (String format : List.of("w3c", "b3")) {
      spans.reset();
      HttpResponse<String> answer = get(port, format);
      assertEquals(401, answer.statusCode());
      // The span ends once the answer is written, which the client may see first.
      SpanData root = serverSpanOf(tracing, spans);
      assertOwnTraceLinkedToCaller(root, format);
      assertEquals(root.getTraceId(), answer.headers().firstValue("X-Trace-Id").orElseThrow(),
          "the trace id answered is the new trace's");
      assertTrue(answer.headers().firstValue("traceparent").orElseThrow().contains(root.getTraceId()));
    }
  }

  @Test
  void atRatioOneAGrpcCallStartsItsOwnTraceLinkedToTheCallers() throws Exception {
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    Tracing tracing = Tracing.withExporter("search-api", spans);
    open.add(tracing);
    ManagedChannel channel = startGrpc(tracing);
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER), SAMPLED_PARENT);
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> similar(channel, md));
    assertEquals(Status.Code.UNAUTHENTICATED, refused.getStatus().getCode(),
        "the call's own headers (its key, here none) still reach the credentials check");
    assertOwnTraceLinkedToCaller(serverSpanOf(tracing, spans), "w3c");
  }

  static SpanData serverSpanOf(Tracing tracing, InMemorySpanExporter spans) {
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      tracing.flush();
      return !servers(spans).isEmpty();
    });
    List<SpanData> server = servers(spans);
    assertEquals(1, server.size(), server::toString);
    return server.get(0);
  }

  static List<SpanData> servers(InMemorySpanExporter spans) {
    return spans.getFinishedSpanItems().stream().filter(s -> s.getKind() == SpanKind.SERVER).toList();
  }

  static void assertOwnTraceLinkedToCaller(SpanData root, String format) {
    assertNotEquals(CALLER_TRACE, root.getTraceId(), format + ": the caller does not name our trace");
    assertFalse(root.getParentSpanContext().isValid(), format + ": a root, not the caller's child");
    assertEquals(1, root.getLinks().size(), format + ": " + root.getLinks());
    SpanContext linked = root.getLinks().get(0).getSpanContext();
    assertEquals(CALLER_TRACE, linked.getTraceId(), format);
    assertEquals(CALLER_SPAN, linked.getSpanId(), format);
  }

  int startHttp(Tracing tracing) throws Exception {
    Admission admission = new Admission(4, 4, 4, Duration.ofSeconds(1));
    ApiRoutes routes = new ApiRoutes(new Authenticator(ApiKeys.parse(List.of("acme:acme-key-0123456789abcdef"))),
        null, new SearchRequestParser(1 << 20, 10), admission, 1 << 20, tracing, null,
        () -> ReadinessReport.of(List.of()), new PrometheusRegistry(), null, new Activity(new PrometheusRegistry()),
        new UploadBudget(64L << 20), new FailureStreaks(LoggerFactory.getLogger(EntrySpansTest.class)));
    HttpApi api = new HttpApi("127.0.0.1", 0, routes, admission.capacity(), () -> Duration.ofSeconds(1), 64);
    api.start();
    open.add(api);
    return api.port();
  }

  ManagedChannel startGrpc(Tracing tracing) throws Exception {
    VisualSearchService service = new VisualSearchService(
        new Authenticator(ApiKeys.parse(List.of("acme:acme-key-0123456789abcdef"))), null, null, 10,
        new Activity(new PrometheusRegistry()));
    SearchGrpcServer server = new SearchGrpcServer("127.0.0.1", 0, 1 << 20, new UploadBudget(64L << 20), service,
        tracing, Duration.ofSeconds(30), new PrometheusRegistry(), () -> Duration.ofSeconds(1));
    server.start();
    open.add(server);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    open.add(() -> channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
    return channel;
  }

  static void similar(ManagedChannel channel, Metadata md) {
    VisualSearchGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .withDeadlineAfter(30, TimeUnit.SECONDS).similar(SimilarRequest.newBuilder().setSku("a").build());
  }

  HttpResponse<String> get(int port, String format) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/api/v1/products/a/similar")).timeout(Duration.ofSeconds(30));
    if (format.equals("b3")) {
      request.header("X-B3-TraceId", CALLER_TRACE).header("X-B3-SpanId", CALLER_SPAN).header("X-B3-Sampled", "1");
    } else {
      request.header("traceparent", SAMPLED_PARENT);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A Zipkin v2 span endpoint on loopback that keeps the trace id of every span posted to it. */
  static final class FakeZipkin implements AutoCloseable {
    private final HttpServer server;
    private final List<String> traceIds = Collections.synchronizedList(new ArrayList<>());

    FakeZipkin() throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext("/api/v2/spans", exchange -> {
        try (InputStream body = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))
            ? new GZIPInputStream(exchange.getRequestBody()) : exchange.getRequestBody()) {
          for (JsonNode span : new ObjectMapper().readTree(body)) {
            traceIds.add(span.get("traceId").asText());
          }
        }
        exchange.sendResponseHeaders(202, -1);
        exchange.close();
      });
      server.start();
    }

    String endpoint() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/api/v2/spans";
    }

    List<String> traceIds() {
      synchronized (traceIds) {
        return List.copyOf(traceIds);
      }
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
