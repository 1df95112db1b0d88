package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RestHandlerPoolTest {

  @Test
  void anExchangeBeyondTheWaitQueueRunsAtOnceMarkedForRefusal() throws Exception {
    RestHandlerPool pool = new RestHandlerPool(1, 1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Boolean> busy = new CompletableFuture<>();
    CompletableFuture<Boolean> waiting = new CompletableFuture<>();
    CompletableFuture<Boolean> beyond = new CompletableFuture<>();
    try {
      pool.executor().execute(() -> {
        busy.complete(RestHandlerPool.overflowing());
        await(release);
      });
      pool.executor().execute(() -> waiting.complete(RestHandlerPool.overflowing()));
      pool.executor().execute(() -> beyond.complete(RestHandlerPool.overflowing()));
      assertTrue(beyond.get(30, TimeUnit.SECONDS), "run while the handler was still busy, marked");
      assertFalse(waiting.isDone(), "the queued one still waits for the handler");
      release.countDown();
      assertFalse(busy.get(30, TimeUnit.SECONDS));
      assertFalse(waiting.get(30, TimeUnit.SECONDS));
    } finally {
      release.countDown();
      pool.close();
    }
    assertEquals(false, RestHandlerPool.overflowing());
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
