package io.visualsearch.modelserver;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The REST handler threads with a bounded wait queue. The JDK's HTTP server hands each exchange
 * to its executor as an opaque task and, if the executor rejects it, drops the connection without
 * an answer; so an exchange beyond the bound is not rejected but run on one extra thread that is
 * marked {@link #overflowing()}, and the handler answers it 503 at once without reading its body.
 */
final class RestHandlerPool {

  private static final ThreadLocal<Boolean> OVERFLOW = ThreadLocal.withInitial(() -> false);

  private final ThreadPoolExecutor handlers;
  private final ExecutorService refusals;

  RestHandlerPool(int threads, int maxWaiting) {
    refusals = Executors.newSingleThreadExecutor(daemons("model-rest-refusals"));
    handlers = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(maxWaiting), daemons("model-rest-"), (exchange, pool) -> refusals.execute(() -> {
          OVERFLOW.set(true);
          try {
            exchange.run();
          } finally {
            OVERFLOW.set(false);
          }
        }));
  }

  /** True on the thread answering an exchange that arrived while every handler was busy and the queue full. */
  static boolean overflowing() {
    return OVERFLOW.get();
  }

  ExecutorService executor() {
    return handlers;
  }

  void close() {
    handlers.shutdown();
    refusals.shutdown();
    try {
      if (!handlers.awaitTermination(10, TimeUnit.SECONDS)) {
        handlers.shutdownNow();
      }
      if (!refusals.awaitTermination(1, TimeUnit.SECONDS)) {
        refusals.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      handlers.shutdownNow();
      refusals.shutdownNow();
    }
  }

  private static ThreadFactory daemons(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix.endsWith("-") ? prefix + n.getAndIncrement() : prefix);
      t.setDaemon(true);
      return t;
    };
  }
}
