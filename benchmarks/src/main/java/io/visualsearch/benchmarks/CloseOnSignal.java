package io.visualsearch.benchmarks;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a benchmark's teardown exactly once: when its owner closes it, or from a JVM shutdown hook
 * on Ctrl-C or SIGTERM, registered from construction on (start-up included). A benchmark's stack
 * has child processes (the S3 server, Zipkin) that outlive the JVM unless stopped. The JVM halts
 * when its hooks return, so a hook arriving while the owner's close runs waits for that close.
 */
public final class CloseOnSignal implements AutoCloseable {

  /** The teardown itself. */
  @FunctionalInterface
  public interface Teardown {
    void run() throws Exception;
  }

  private final Teardown teardown;
  private final String what;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch done = new CountDownLatch(1);
  private final Thread onSignal;

  /** Registers the hook now; {@code what} names the teardown in the hook's error message. */
  public CloseOnSignal(String what, Teardown teardown) {
    this.what = what;
    this.teardown = teardown;
    this.onSignal = new Thread(this::fromHook, "bench-shutdown: " + what);
    Runtime.getRuntime().addShutdownHook(onSignal);
  }

  private void fromHook() {
    try {
      close();
    } catch (Exception e) {
      System.err.println("bench: " + what + ": " + e);
    }
  }

  /** Runs the teardown, unless it ran or runs already; the hook's call waits for one under way. */
  @Override
  public void close() throws Exception {
    if (!closed.compareAndSet(false, true)) {
      if (Thread.currentThread() == onSignal) {
        try {
          done.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return;
    }
    try {
      if (Thread.currentThread() != onSignal) {
        try {
          Runtime.getRuntime().removeShutdownHook(onSignal);
        } catch (IllegalStateException shuttingDown) {
          // The JVM is shutting down and the hook will run: it waits for this close.
        }
      }
      teardown.run();
    } finally {
      done.countDown();
    }
  }

  /** The hook as the JVM would run it, for tests. */
  Thread hook() {
    return onSignal;
  }
}
