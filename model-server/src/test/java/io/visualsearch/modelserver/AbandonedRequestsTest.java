package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.config.Config;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.modelclient.ModelClientSettings;
import io.visualsearch.modelclient.ModelUnavailableException;
import io.visualsearch.tracing.Tracing;
import java.awt.Color;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Predict whose caller's deadline passes while it waits for a batch is dropped, not run: the
 * server's cores go to callers still waiting. Through the real gRPC server and TensorFlow.
 */
class AbandonedRequestsTest {

  @TempDir
  Path base;

  @Test
  void aRequestWhoseDeadlinePassedInTheQueueNeverReachesTensorFlow() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    // One batch thread that always waits out a 3 s window: the request is still queued when its
    // caller's 300 ms deadline passes.
    ModelServerSettings settings = ModelServerSettings.from(ModelServerSettings.defaultConfig(base)
        .with(ModelServerSettings.GRPC_PORT, 0).with(ModelServerSettings.REST_PORT, -1)
        .with(ModelServerSettings.BATCH_THREADS, 1).with(ModelServerSettings.DISPATCH_WHEN_IDLE, false)
        .with(ModelServerSettings.BATCH_TIMEOUT, Duration.ofSeconds(3)));
    try (Tracing tracing = Tracing.withExporter("model-server", InMemorySpanExporter.create());
        ModelServer server = new ModelServer(settings, tracing, new PrometheusRegistry())) {
      server.start();
      Config config = ModelClientSettings.definition().parse(Map.of(
          "MODEL_SERVER_TARGET", "127.0.0.1:" + server.grpcPort(),
          "MODEL_INPUT", "image", "MODEL_IMAGE_SIZE", "32", "MODEL_DEADLINE", "300ms"));
      try (Tracing clientTracing = Tracing.withExporter("client", InMemorySpanExporter.create());
          ModelClient client = new ModelClient(config, clientTracing)) {
        client.start();
        assertThrows(ModelUnavailableException.class,
            () -> client.embed(List.of(ModelServerTracingTest.image(Color.RED))), "DEADLINE_EXCEEDED");

        long giveUp = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (server.batchStats().abandoned() == 0 && System.nanoTime() < giveUp) {
          Thread.sleep(50);
        }
        assertEquals(1, server.batchStats().abandoned(), "the abandoned request was dropped once its batch formed");
        assertEquals(0, server.batchStats().runs(), "TensorFlow ran a request nobody was waiting for");

        // The server goes on serving callers that wait.
        Config patient = ModelClientSettings.definition().parse(Map.of(
            "MODEL_SERVER_TARGET", "127.0.0.1:" + server.grpcPort(),
            "MODEL_INPUT", "image", "MODEL_IMAGE_SIZE", "32", "MODEL_DEADLINE", "30s"));
        try (ModelClient waiting = new ModelClient(patient, clientTracing)) {
          waiting.start();
          assertEquals(TestSavedModels.EMBEDDING_DIM,
              waiting.embed(List.of(ModelServerTracingTest.image(Color.BLUE))).dimension());
        }
        assertEquals(1, server.batchStats().runs());
      }
    }
  }
}
