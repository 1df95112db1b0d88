package io.visualsearch.searchapi.http;

import io.visualsearch.searchapi.ApiException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounded concurrency for the expensive endpoints: at most {@code maxConcurrent} searches run,
 * at most {@code maxQueued} wait (each at most {@code queueTimeout}); anything beyond is refused
 * at once with 503 and Retry-After, so overload sheds load instead of piling up threads and
 * latency for everyone.
 */
public final class Admission {

  private final Semaphore running;
  private final int maxConcurrent;
  private final int maxQueued;
  private final Duration queueTimeout;
  private final AtomicInteger waiting = new AtomicInteger();

  public Admission(int maxConcurrent, int maxQueued, Duration queueTimeout) {
    this.running = new Semaphore(maxConcurrent, true);
    this.maxConcurrent = maxConcurrent;
    this.maxQueued = maxQueued;
    this.queueTimeout = queueTimeout;
  }

  /** The most searches inside at once, running or waiting for a slot; one more is refused at once. */
  public int capacity() {
    return (int) Math.min(Integer.MAX_VALUE, (long) maxConcurrent + maxQueued);
  }

  /** A permit to run; close it when done. Throws 503 when the service is saturated. */
  public Permit enter() {
    if (running.tryAcquire()) {
      return new Permit();
    }
    if (waiting.incrementAndGet() > maxQueued) {
      waiting.decrementAndGet();
      throw overloaded();
    }
    try {
      if (!running.tryAcquire(queueTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw overloaded();
      }
      return new Permit();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw overloaded();
    } finally {
      waiting.decrementAndGet();
    }
  }

  private static ApiException overloaded() {
    return ApiException.unavailable("overloaded", "the search service is at capacity, retry shortly", 1, null);
  }

  /** Returned by {@link #enter()}; releases the slot exactly once. */
  public final class Permit implements AutoCloseable {
    private boolean closed;

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        running.release();
      }
    }
  }
}
