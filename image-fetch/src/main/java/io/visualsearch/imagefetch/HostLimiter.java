package io.visualsearch.imagefetch;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * At most {@code perHost} requests in flight per origin, so one retailer's slow CDN cannot take
 * every worker, and we stay polite to each host. An origin's slots are kept only while someone
 * holds or waits for one: image URLs on wildcard-DNS subdomains would otherwise grow the table
 * for as long as the service runs.
 */
final class HostLimiter {

  /** A held slot; release by closing. */
  interface Permit extends AutoCloseable {
    @Override
    void close();
  }

  private static final class Slots {
    final Semaphore semaphore;
    int users; // holding or waiting; guarded by the limiter

    Slots(int perHost) {
      semaphore = new Semaphore(perHost, true);
    }
  }

  private final int perHost;
  private final Map<String, Slots> slots = new HashMap<>();

  HostLimiter(int perHost) {
    this.perHost = perHost;
  }

  /** Null when no slot freed up within the timeout. */
  Permit acquire(String origin, long timeoutMillis) throws InterruptedException {
    Slots s;
    synchronized (this) {
      s = slots.computeIfAbsent(origin, k -> new Slots(perHost));
      s.users++;
    }
    boolean acquired = false;
    try {
      acquired = s.semaphore.tryAcquire(timeoutMillis, TimeUnit.MILLISECONDS);
    } finally {
      if (!acquired) {
        leave(origin, s);
      }
    }
    if (!acquired) {
      return null;
    }
    return () -> {
      s.semaphore.release();
      leave(origin, s);
    };
  }

  private synchronized void leave(String origin, Slots s) {
    if (--s.users == 0) {
      slots.remove(origin, s);
    }
  }

  /** Origins with a slot held or awaited. */
  synchronized int origins() {
    return slots.size();
  }
}
