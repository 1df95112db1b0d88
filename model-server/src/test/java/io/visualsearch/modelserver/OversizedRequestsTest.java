package io.visualsearch.modelserver;

import static io.visualsearch.modelserver.ModelServerTest.imageRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests over MODEL_SERVER_MAX_MESSAGE_BYTES: gRPC answers RESOURCE_EXHAUSTED, REST a 413 JSON
 * error, and the server goes on answering requests that fit.
 */
class OversizedRequestsTest {

  static final int LIMIT = 64 * 1024;

  @TempDir
  static Path base;

  static ModelServer server;
  static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    server = new ModelServer(ModelServerSettings.from(ModelServerSettings.defaultConfig(base)
        .with(ModelServerSettings.GRPC_PORT, 0).with(ModelServerSettings.REST_PORT, 0)
        .with(ModelServerSettings.MAX_MESSAGE_BYTES, LIMIT)));
    channel = ModelServerTest.startWithChannel(server);
  }

  @AfterAll
  static void stop() throws Exception {
    ModelServerTest.stopWithChannel(channel, server);
  }

  @Test
  void grpcRefusesAMessageOverTheLimitWithResourceExhaustedAndKeepsServing() {
    var stub = PredictionServiceGrpc.newBlockingStub(channel);
    // 160x160 RGB is 76,800 bytes of pixels: over the 64 KiB limit.
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub
        .withDeadlineAfter(30, TimeUnit.SECONDS).predict(imageRequest(TestSavedModels.image(1, 160, 160), 160, 160).build()));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    assertTrue(String.valueOf(e.getStatus().getDescription()).contains(Integer.toString(LIMIT)),
        "the description names the limit: " + e.getStatus().getDescription());
    assertEquals(1, stub.withDeadlineAfter(30, TimeUnit.SECONDS)
        .predict(imageRequest(TestSavedModels.image(2, 8, 8), 8, 8).build()).getOutputsMap().size(),
        "a request that fits is still answered");
  }

  @Test
  void restAnswersABodyOverTheLimitWith413JsonAndKeepsServing() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    URI predict = URI.create("http://127.0.0.1:" + server.restPort() + "/v1/models/default:predict");
    // Over the limit by less than what the JDK's server drains after an unread body, so the
    // connection stays clean and the client reads the answer.
    byte[] body = ("{\"instances\": [" + "0,".repeat(LIMIT / 2 + 1000) + "0]}").getBytes(StandardCharsets.US_ASCII);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(predict)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(413, r.statusCode());
    assertTrue(new ObjectMapper().readTree(r.body()).get("error").asText().contains(Integer.toString(LIMIT)), r.body());
    HttpResponse<String> ok = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.restPort()
        + "/v1/models/default")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, ok.statusCode());
  }

  @Test
  void aSmallRestBodyDeclaringAHugeTensorThroughItsFirstElementsIsRefusedWithoutAllocatingIt() throws Exception {
    // Lists of 1,200 whose first element alone is a list: ~8 KB of JSON whose first elements
    // declare a uint8 [1200,1200,1200,1] tensor, 1.7 GB.
    String rest = ",0".repeat(1199);
    String body = "{\"instances\": [[[[0]" + rest + "]" + rest + "]" + rest + "]}";
    assertTrue(body.length() < LIMIT);
    List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(p -> p.getType() == MemoryType.HEAP).toList();
    heap.forEach(MemoryPoolMXBean::resetPeakUsage);
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.restPort()
        + "/v1/models/default:predict")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    long peak = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
    assertEquals(400, r.statusCode(), r.body());
    assertTrue(new ObjectMapper().readTree(r.body()).get("error").asText().contains("not a rectangular tensor"), r.body());
    assertTrue(peak < 1L << 30, "heap peaked at " + (peak >> 20) + " MiB for an 8 KB request");
  }
}
