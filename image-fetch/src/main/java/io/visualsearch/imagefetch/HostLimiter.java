package io.visualsearch.imagefetch;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * At most {@code perHost} requests in flight per origin, so one retailer's slow CDN cannot take
 * every worker, and we stay polite to each host. One semaphore per origin seen (a catalog's
 * images come from a handful of origins).
 */
final class HostLimiter {

  /** A held slot; release by closing. */
  interface Permit extends AutoCloseable {
    @Override
    void close();
  }

  private final int perHost;
  private final ConcurrentHashMap<String, Semaphore> slots = new ConcurrentHashMap<>();

  HostLimiter(int perHost) {
    this.perHost = perHost;
  }

  /** Null when no slot freed up within the timeout. */
  Permit acquire(String origin, long timeoutMillis) throws InterruptedException {
    Semaphore semaphore = slots.computeIfAbsent(origin, k -> new Semaphore(perHost, true));
    if (!semaphore.tryAcquire(timeoutMillis, TimeUnit.MILLISECONDS)) {
      return null;
    }
    return semaphore::release;
  }
}
