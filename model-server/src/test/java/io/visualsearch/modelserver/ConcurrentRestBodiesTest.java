package io.visualsearch.modelserver;

import static io.visualsearch.modelserver.ModelServerTest.imageRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * REST bodies share one heap budget (MODEL_SERVER_REST_BODY_BUDGET_BYTES): while one near-limit
 * body is being read, a second that would not fit is answered 503 at once, declared or chunked,
 * and afterwards the server answers REST and gRPC as before.
 */
class ConcurrentRestBodiesTest {

  static final int LIMIT = 64 * 1024;
  static final long BUDGET = 1024 * 1024;

  @TempDir
  static Path base;

  static PrometheusRegistry registry = new PrometheusRegistry();
  static ModelServer server;
  static ManagedChannel channel;
  static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    server = new ModelServer(ModelServerSettings.from(ModelServerSettings.defaultConfig(base)
        .with(ModelServerSettings.GRPC_PORT, 0).with(ModelServerSettings.REST_PORT, 0)
        .with(ModelServerSettings.MAX_MESSAGE_BYTES, LIMIT)
        .with(ModelServerSettings.REST_BODY_BUDGET_BYTES, BUDGET)), null, registry);
    channel = ModelServerTest.startWithChannel(server);
  }

  @AfterAll
  static void stop() throws Exception {
    ModelServerTest.stopWithChannel(channel, server);
  }

  @Test
  void aSecondNearLimitBodyIsRefusedAtOnceWhileTheFirstIsReadAndTheServerKeepsServing() throws Exception {
    byte[] body = imageBody(70, 70);
    assertTrue(body.length < LIMIT && 2L * body.length * BodyBudget.EXPANSION > BUDGET
        && (long) body.length * BodyBudget.EXPANSION <= BUDGET, "one body fits the budget, two do not");
    try (Socket first = new Socket("127.0.0.1", server.restPort())) {
      first.setSoTimeout(30_000);
      OutputStream out = first.getOutputStream();
      out.write(("POST /v1/models/default:predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body, 0, body.length / 2);
      out.flush();
      awaitBudgetInUse();

      // The first body is half sent, so it is still being handled: these are answered without waiting for it.
      HttpResponse<String> declared = http.send(predict(HttpRequest.BodyPublishers.ofByteArray(body)),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(503, declared.statusCode(), declared.body());
      assertTrue(new ObjectMapper().readTree(declared.body()).get("error").asText().contains("retry later"),
          declared.body());
      HttpResponse<String> chunked = http.send(predict(HttpRequest.BodyPublishers.ofInputStream(
          () -> new ByteArrayInputStream(body))), HttpResponse.BodyHandlers.ofString());
      assertEquals(503, chunked.statusCode(), chunked.body());

      out.write(body, body.length / 2, body.length - body.length / 2);
      out.flush();
      assertEquals("HTTP/1.1 200", statusLine(first.getInputStream()));
    }

    assertEquals(200, http.send(predict(HttpRequest.BodyPublishers.ofByteArray(body)),
        HttpResponse.BodyHandlers.ofString()).statusCode(), "the first body's share was given back");
    assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.restPort()
        + "/v1/models/default")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    assertEquals(1, PredictionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .predict(imageRequest(TestSavedModels.image(2, 8, 8), 8, 8).build()).getOutputsMap().size());
    assertEquals(0, budgetInUse());
  }

  /** {"instances": [one h x w RGB uint8 image]} as JSON. */
  static byte[] imageBody(int h, int w) {
    byte[] px = TestSavedModels.image(7, h, w);
    StringBuilder s = new StringBuilder("{\"instances\": [[");
    for (int y = 0; y < h; y++) {
      s.append(y == 0 ? "[" : ",[");
      for (int x = 0; x < w; x++) {
        int i = (y * w + x) * 3;
        s.append(x == 0 ? "[" : ",[").append(px[i] & 0xff).append(',').append(px[i + 1] & 0xff).append(',')
            .append(px[i + 2] & 0xff).append(']');
      }
      s.append(']');
    }
    return s.append("]]}").toString().getBytes(StandardCharsets.US_ASCII);
  }

  private static HttpRequest predict(HttpRequest.BodyPublisher body) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.restPort() + "/v1/models/default:predict"))
        .timeout(java.time.Duration.ofSeconds(30)).POST(body).build();
  }

  private static void awaitBudgetInUse() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (budgetInUse() == 0) {
      assertTrue(System.nanoTime() < deadline, "the first body never took a share of the budget");
      Thread.sleep(10);
    }
  }

  private static double budgetInUse() {
    for (MetricSnapshot m : registry.scrape()) {
      if (m.getMetadata().getName().equals("model_server_rest_body_budget_used_bytes")) {
        return ((GaugeSnapshot) m).getDataPoints().get(0).getValue();
      }
    }
    throw new AssertionError("no budget gauge");
  }

  private static String statusLine(InputStream in) throws Exception {
    byte[] line = new byte[12];
    int n = in.readNBytes(line, 0, line.length);
    return new String(Arrays.copyOf(line, n), StandardCharsets.US_ASCII);
  }
}
