package io.visualsearch.modelserver;

import static io.visualsearch.modelserver.ModelServerTest.assertClose;
import static io.visualsearch.modelserver.ModelServerTest.floats;
import static io.visualsearch.modelserver.ModelServerTest.imageRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.visualsearch.proto.tfserving.GetModelStatusRequest;
import io.visualsearch.proto.tfserving.ModelServiceGrpc;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.ModelVersionStatus;
import io.visualsearch.proto.tfserving.PredictResponse;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HotSwapAndBatchingTest {

  @TempDir
  Path base;

  @Test
  void aNewVersionTakesOverWhileRequestsRunWithoutASingleFailure() throws Exception {
    Path v1 = TestSavedModels.exportVersion(base, "default", 1);
    byte[] px = TestSavedModels.image(5, 16, 16);
    float[] v1Embedding;
    try (ReferenceModel ref = new ReferenceModel(v1)) {
      v1Embedding = ref.embed(px, 16, 16);
    }
    // One served version: the old one must retire, and only after its last request.
    ModelServerSettings settings = ModelServerSettings.from(ModelServerSettings.defaultConfig(base)
        .with(ModelServerSettings.REST_PORT, -1).with(ModelServerSettings.GRPC_PORT, 0)
        .with(ModelServerSettings.POLL_INTERVAL, Duration.ofMillis(50)).with(ModelServerSettings.SERVED_VERSIONS, 1));
    try (ModelServer server = new ModelServer(settings)) {
      server.start();
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
      ExecutorService clients = Executors.newFixedThreadPool(4);
      AtomicBoolean stop = new AtomicBoolean();
      ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
      Map<Long, AtomicLong> servedBy = Map.of(1L, new AtomicLong(), 2L, new AtomicLong());
      try {
        List<Future<?>> loops = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          loops.add(clients.submit(() -> {
            var stub = PredictionServiceGrpc.newBlockingStub(channel);
            while (!stop.get()) {
              try {
                PredictResponse r = stub.withDeadlineAfter(30, TimeUnit.SECONDS)
                    .predict(imageRequest(px, 16, 16).build());
                long version = r.getModelSpec().getVersion().getValue();
                float[] expected = v1Embedding.clone();
                if (version == 2) {
                  // Version 2 has negated weights, hence the negated embedding.
                  for (int i = 0; i < expected.length; i++) {
                    expected[i] = -expected[i];
                  }
                }
                assertClose(expected, floats(r.getOutputsOrThrow("embedding")), 1e-5f);
                servedBy.get(version).incrementAndGet();
              } catch (Throwable e) {
                failures.add(e);
              }
            }
          }));
        }
        awaitAtLeast(servedBy.get(1L), 20);
        TestSavedModels.exportVersion(base, "default", 2);

        var status = ModelServiceGrpc.newBlockingStub(channel);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Map<Long, ModelVersionStatus.State> states = Map.of();
        while (System.nanoTime() < deadline) {
          states = status.getModelStatus(GetModelStatusRequest.newBuilder()
                  .setModelSpec(ModelSpec.newBuilder().setName("default")).build())
              .getModelVersionStatusList().stream()
              .collect(Collectors.toMap(ModelVersionStatus::getVersion, ModelVersionStatus::getState));
          if (states.get(2L) == ModelVersionStatus.State.AVAILABLE && states.get(1L) == ModelVersionStatus.State.END) {
            break;
          }
          Thread.sleep(20);
        }
        assertEquals(ModelVersionStatus.State.AVAILABLE, states.get(2L), states.toString());
        // END is reported only once version 1's bundle has been closed, i.e. after its last request.
        assertEquals(ModelVersionStatus.State.END, states.get(1L), states.toString());
        awaitAtLeast(servedBy.get(2L), 20);
        stop.set(true);
        for (Future<?> f : loops) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        stop.set(true);
        clients.shutdownNow();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      assertTrue(failures.isEmpty(), () -> failures.size() + " failed requests, first: " + failures.peek());
      assertTrue(servedBy.get(1L).get() >= 20 && servedBy.get(2L).get() >= 20, servedBy.toString());
    }
  }

  @Test
  void concurrentRequestsAreMergedIntoBatchesAndSplitBackCorrectly() throws Exception {
    Path v1 = TestSavedModels.exportVersion(base, "default", 1);
    // A batch timeout far beyond the test: a batch can only start by filling up to 4 rows, so the
    // 8 concurrent single-image requests must run as exactly two TensorFlow calls.
    ModelServerSettings settings = ModelServerSettings.from(ModelServerSettings.defaultConfig(base)
        .with(ModelServerSettings.REST_PORT, -1).with(ModelServerSettings.GRPC_PORT, 0)
        .with(ModelServerSettings.MAX_BATCH_SIZE, 4).with(ModelServerSettings.BATCH_TIMEOUT, Duration.ofMinutes(5))
        .with(ModelServerSettings.DISPATCH_WHEN_IDLE, false));
    try (ReferenceModel ref = new ReferenceModel(v1); ModelServer server = new ModelServer(settings)) {
      server.start();
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
      ExecutorService clients = Executors.newFixedThreadPool(8);
      try {
        List<Future<float[]>> answers = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          byte[] px = TestSavedModels.image(100 + i, 9, 11);
          expected.add(ref.embed(px, 9, 11));
          answers.add(clients.submit(() -> floats(PredictionServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(60, TimeUnit.SECONDS).predict(imageRequest(px, 9, 11).build())
              .getOutputsOrThrow("embedding"))));
        }
        for (int i = 0; i < 8; i++) {
          assertClose(expected.get(i), answers.get(i).get(60, TimeUnit.SECONDS), 1e-5f);
        }
        BatchStats stats = server.batchStats();
        assertEquals(List.of(2L, 8L, 8L, 0L), List.of(stats.runs(), stats.requests(), stats.rows(), stats.rejected()));
        assertTrue(stats.runNanos() > 0, "time in TensorFlow is counted");
      } finally {
        clients.shutdownNow();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static void awaitAtLeast(AtomicLong counter, long n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (counter.get() < n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(counter.get() >= n, "only " + counter.get() + " responses");
  }
}
