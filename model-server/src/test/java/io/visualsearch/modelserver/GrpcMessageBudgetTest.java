package io.visualsearch.modelserver;

import static io.visualsearch.modelserver.ModelServerTest.imageRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.visualsearch.proto.tfserving.PredictResponse;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Predict's message takes three times its bytes from the gRPC message budget while it is
 * received and decoded, gives them back once queued, and is cut off UNAVAILABLE when the budget
 * has not got them, before the model sees it.
 */
class GrpcMessageBudgetTest {

  static final long MIB = 1 << 20;

  @TempDir
  Path base;

  @Test
  void aMessageThatDoesNotFitIsCutOffAndOneThatDoesRunsAndGivesItsBytesBack() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    BodyBudget budget = new BodyBudget(8 * MIB);
    try (ModelManager models = new ModelManager("default", base, OptionalLong.empty(), Duration.ofHours(1), 1);
        DynamicBatcher batcher = new DynamicBatcher(1, Duration.ZERO, 1, 10, false,
            (key, inputs) -> key.version().run(key.signature(), inputs, key.outputs()))) {
      models.start();
      batcher.start();
      GrpcModelServer server = new GrpcModelServer("127.0.0.1", 0, 64 * 1024 * 1024,
          new ModelServingService(models, batcher, 1), List.of(), new GrpcMessageBudget(budget));
      server.start();
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
          .maxInboundMessageSize(64 * 1024 * 1024).build();
      try {
        var stub = PredictionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        int h = 512;
        int w = 700; // ~1 MiB of pixels: 3 MiB of the budget while received
        byte[] px = TestSavedModels.image(3, h, w);

        // Other calls hold all but 2 MiB.
        BodyBudget.Lease others = budget.lease();
        assertTrue(others.grow(6 * MIB));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
            () -> stub.predict(imageRequest(px, h, w).build()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("overloaded"), e.getStatus().getDescription());
        assertEquals(0, batcher.stats().requests(), "the cut-off request never reached the model");
        awaitUsed(budget, 6 * MIB, "the cut-off call gave back what it had taken");

        others.close();
        PredictResponse r = stub.predict(imageRequest(px, h, w).build());
        assertEquals(1, r.getModelSpec().getVersion().getValue());
        awaitUsed(budget, 0, "the answered call gave its bytes back");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
      }
    }
  }

  /** The server gives a call's bytes back on its own thread, which the client may outrun. */
  static void awaitUsed(BodyBudget budget, long expected, String message) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (budget.used() != expected && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertEquals(expected, budget.used(), message);
  }
}
