package io.visualsearch.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CloseOnSignalTest {

  @Test
  void theTeardownRunsOnceAndTheHookIsGoneAfterTheOwnersClose() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    CloseOnSignal closer = new CloseOnSignal("test", runs::incrementAndGet);
    closer.close();
    closer.close();
    assertEquals(1, runs.get());
    assertFalse(Runtime.getRuntime().removeShutdownHook(closer.hook()), "no hook left to stop children at exit twice");
  }

  @Test
  void aSignalDuringTheOwnersCloseWaitsForItInsteadOfLettingTheJvmHaltHalfWay() throws Exception {
    CountDownLatch inTeardown = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    CloseOnSignal closer = new CloseOnSignal("test", () -> {
      runs.incrementAndGet();
      inTeardown.countDown();
      release.await();
    });
    Thread owner = new Thread(() -> {
      try {
        closer.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    owner.start();
    assertTrue(inTeardown.await(30, TimeUnit.SECONDS));
    // The owner's close took the hook off the JVM's list; start it as the JVM would on SIGTERM.
    Thread hook = closer.hook();
    hook.start();
    hook.join(300);
    assertTrue(hook.isAlive(), "the hook returned while the stack was still being stopped");
    release.countDown();
    hook.join(30_000);
    owner.join(30_000);
    assertFalse(hook.isAlive());
    assertEquals(1, runs.get(), "the teardown ran once");
  }
}
