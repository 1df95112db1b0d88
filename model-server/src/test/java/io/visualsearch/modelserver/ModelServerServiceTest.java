package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.visualsearch.config.Config;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import io.visualsearch.runtime.OpsServer;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * The model server wired as a service ({@link ModelServerService#wire}) on a {@link ServiceHost}:
 * the ops endpoint reports readiness by model load and exposes request, batch and version metrics.
 */
class ModelServerServiceTest {

  @TempDir
  Path base;

  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void opsEndpointShowsReadinessAndBatchRequestAndVersionMetrics() throws Exception {
    try (ServiceHost host = new ServiceHost(ModelServerService.NAME)) {
      ModelServer server = ModelServerService.wire(config("-1"), host);
      host.start();
      int ops = opsPort(host);

      assertEquals(200, get(ops, "/healthz").statusCode());
      assertEquals(503, get(ops, "/readyz").statusCode(), "no model version yet: not ready");
      TestSavedModels.exportVersion(base, "default", 1);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (get(ops, "/readyz").statusCode() != 200 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(200, get(ops, "/readyz").statusCode());

      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
      try {
        var stub = PredictionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        stub.predict(request("default", 1));
        stub.predict(request("default", 3));
        try {
          stub.predict(request("no-such-model", 1));
        } catch (StatusRuntimeException expected) {
          // counted as NOT_FOUND below
        }
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }

      String metrics = get(ops, "/metrics").body();
      assertEquals(2.0, value(metrics, "model_server_requests_total{api=\"grpc\",code=\"OK\",method=\"Predict\"}"));
      assertEquals(1.0, value(metrics,
          "model_server_requests_total{api=\"grpc\",code=\"NOT_FOUND\",method=\"Predict\"}"));
      assertEquals(3.0, value(metrics, "model_server_request_duration_seconds_count{api=\"grpc\",method=\"Predict\"}"));
      // Two runs, of 1 and 3 rows: one observation at or under 1, both at or under 4.
      assertEquals(2.0, value(metrics, "model_server_batch_size_rows_count{signature=\"serving_default\"}"));
      assertEquals(4.0, value(metrics, "model_server_batch_size_rows_sum{signature=\"serving_default\"}"));
      assertEquals(1.0, value(metrics, "model_server_batch_size_rows_bucket{signature=\"serving_default\",le=\"1.0\"}"));
      assertEquals(2.0, value(metrics, "model_server_batch_size_rows_bucket{signature=\"serving_default\",le=\"4.0\"}"));
      assertEquals(2.0, value(metrics, "model_server_batch_runs_total"));
      assertEquals(4.0, value(metrics, "model_server_batched_rows_total"));
      assertEquals(2.0, value(metrics, "model_server_batch_queue_wait_seconds_count"));
      assertEquals(0.0, value(metrics, "model_server_queue_depth"));
      assertEquals(0.0, value(metrics, "model_server_rejected_requests_total"));
      assertEquals(0.0, value(metrics, "model_server_abandoned_requests_total"));
      assertEquals(1.0, value(metrics,
          "model_server_version_state{model=\"default\",state=\"AVAILABLE\",version=\"1\"}"));
      assertEquals(1.0, value(metrics, "model_server_serving_version{model=\"default\"}"));
      assertTrue(metrics.contains("jvm_memory_used_bytes"), "JVM metrics are exposed too");
    }
  }

  @Test
  void restMethodsAClientInventsShareOneMetricSeries() throws Exception {
    try (ServiceHost host = new ServiceHost(ModelServerService.NAME)) {
      ModelServer server = ModelServerService.wire(config("0"), host);
      host.start();
      int ops = opsPort(host);
      for (int i = 0; i < 20; i++) {
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.restPort() + "/v1/models/default"))
            .method("X" + i, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
      }
      get(server.restPort(), "/v1/models/default");
      String metrics = get(ops, "/metrics").body();
      java.util.Set<String> restMethods = new java.util.TreeSet<>();
      java.util.regex.Matcher m = java.util.regex.Pattern
          .compile("model_server_requests_total\\{api=\"rest\",code=\"\\d+\",method=\"([^\"]*)\"\\}").matcher(metrics);
      while (m.find()) {
        restMethods.add(m.group(1).split(" ")[0]);
      }
      assertEquals(java.util.Set.of("GET", "_OTHER"), restMethods, metrics);
    }
  }

  /**
   * A HEAD (an uptime checker's): given a length, the JDK server failed the body's write, and the
   * request was counted and traced as a 500 of the model server's own.
   */
  @Test
  void aHeadRequestIsCountedWithTheStatusItWasAnswered() throws Exception {
    try (ServiceHost host = new ServiceHost(ModelServerService.NAME)) {
      ModelServer server = ModelServerService.wire(config("0"), host);
      host.start();
      HttpResponse<String> head = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + server.restPort() + "/v1/models/default"))
          .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals("", head.body());
      String metrics = get(opsPort(host), "/metrics").body();
      assertTrue(metrics.contains("model_server_requests_total{api=\"rest\",code=\"" + head.statusCode()
          + "\",method=\"HEAD "), metrics);
      assertFalse(metrics.contains("code=\"500\",method=\"HEAD"), metrics);
    }
  }

  /** The service on free ports, models from {@code base}, REST on {@code restPort} (-1: off). */
  Config config(String restPort) {
    return ModelServerService.definition().include(RuntimeSettings.definition()).parse(new HashMap<>(Map.of(
        "MODEL_SERVER_BASE_PATH", base.toString(),
        "MODEL_SERVER_GRPC_PORT", "0",
        "MODEL_SERVER_REST_PORT", restPort,
        "MODEL_SERVER_POLL_INTERVAL", "50ms",
        "OPS_PORT", "0",
        "ZIPKIN_ENDPOINT", "none")));
  }

  static int opsPort(ServiceHost host) {
    return host.components().stream().filter(OpsServer.class::isInstance).map(OpsServer.class::cast)
        .findFirst().orElseThrow().port();
  }

  HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The value of one sample line of the Prometheus text format, by its exact name and labels. */
  static double value(String exposition, String sample) {
    for (String line : exposition.split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(sample.length() + 1).trim().split(" ")[0]);
      }
    }
    throw new AssertionError("no sample " + sample + " in\n" + exposition);
  }

  static PredictRequest request(String model, int images) {
    int h = 5;
    int w = 4;
    byte[] pixels = new byte[images * h * w * 3];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 7);
    }
    TensorProto tensor = TensorProto.newBuilder().setDtype(DataType.DT_UINT8)
        .setTensorShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(images))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(h))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(w))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(3)))
        .setTensorContent(ByteString.copyFrom(pixels)).build();
    return PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(model))
        .putInputs("image", tensor).build();
  }
}
