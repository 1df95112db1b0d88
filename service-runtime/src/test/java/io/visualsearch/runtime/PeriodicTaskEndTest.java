package io.visualsearch.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PeriodicTaskEndTest {

  @Test
  void aRunningTaskAndOneNeverScheduledHaveNoEnd() {
    assertNull(PeriodicTaskEnd.of(null, "the poll"));
    assertNull(PeriodicTaskEnd.of(new CompletableFuture<>(), "the poll"));
  }

  @Test
  void anErrorThatEndedAPeriodicTaskIsNamed() throws Exception {
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    try {
      ScheduledFuture<?> task = executor.scheduleWithFixedDelay(() -> {
        throw new StackOverflowError("feed nested too deep");
      }, 0, 10, TimeUnit.MILLISECONDS);
      while (!task.isDone()) {
        Thread.sleep(5);
      }
      assertEquals("the poll died: java.lang.StackOverflowError: feed nested too deep",
          PeriodicTaskEnd.of(task, "the poll"));
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void aTaskItsOwnerCancelledHasNoEndAndOneThatReturnedStopped() {
    CompletableFuture<Void> cancelled = new CompletableFuture<>();
    cancelled.cancel(false);
    assertNull(PeriodicTaskEnd.of(cancelled, "the poll"), "an executor shut down cancels its periodic tasks");
    assertEquals("the poll stopped", PeriodicTaskEnd.of(CompletableFuture.completedFuture(null), "the poll"));
  }
}
