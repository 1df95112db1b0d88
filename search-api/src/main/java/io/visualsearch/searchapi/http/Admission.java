package io.visualsearch.searchapi.http;

import io.visualsearch.searchapi.ApiException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounded concurrency for the expensive endpoints: at most {@code maxConcurrent} searches run,
 * at most {@code maxQueued} wait (each at most {@code queueTimeout}); anything beyond is refused
 * at once with 503 and Retry-After, so overload sheds load instead of piling up threads and
 * latency for everyone. One tenant holds at most {@code maxPerTenant} of those places, running
 * or waiting: a retailer's burst is refused on its own before it takes the slots of every other.
 *
 * <p>Without a queue ({@link #withoutQueue}) it bounds other waits on a request thread the same
 * way: the similar-items reads of the store.
 */
public final class Admission {

  private final String what;
  private final Semaphore running;
  private final int maxConcurrent;
  private final int maxQueued;
  private final Duration queueTimeout;
  private final int maxPerTenant;
  private final AtomicInteger waiting = new AtomicInteger();
  /** Per tenant, its searches running or waiting; kept for good: tenants are the API keys' few. */
  private final Map<String, AtomicInteger> inside = new ConcurrentHashMap<>();

  public Admission(int maxConcurrent, int maxQueued, int maxPerTenant, Duration queueTimeout) {
    this("searches", maxConcurrent, maxQueued, maxPerTenant, queueTimeout);
  }

  private Admission(String what, int maxConcurrent, int maxQueued, int maxPerTenant, Duration queueTimeout) {
    this.what = what;
    this.running = new Semaphore(maxConcurrent, true);
    this.maxConcurrent = maxConcurrent;
    this.maxQueued = maxQueued;
    this.maxPerTenant = maxPerTenant;
    this.queueTimeout = queueTimeout;
  }

  /**
   * At most {@code max} of {@code what} (a plural noun, for the refusals' messages) at once, one
   * tenant at most {@code maxPerTenant} of them; none waits: beyond either, 503 at once.
   */
  public static Admission withoutQueue(String what, int max, int maxPerTenant) {
    return new Admission(what, max, 0, maxPerTenant, Duration.ZERO);
  }

  /** The most searches inside at once, running or waiting for a slot; one more is refused at once. */
  /** Requests waiting for a slot now. */
  public int waiting() {
    return waiting.get();
  }

  /** Places {@code tenant} holds now, running or waiting. */
  int heldBy(String tenant) {
    AtomicInteger mine = inside.get(tenant);
    return mine == null ? 0 : Math.max(0, mine.get());
  }

  /** The most places one tenant holds at once. */
  public int perTenant() {
    return maxPerTenant;
  }

  public int capacity() {
    return (int) Math.min(Integer.MAX_VALUE, (long) maxConcurrent + maxQueued);
  }

  /**
   * A permit to run a search of {@code tenant}; close it when done. Throws 503 when the tenant
   * already holds its share, or the service is saturated.
   */
  public Permit enter(String tenant) {
    return enter(tenant, queueTimeout);
  }

  /**
   * The same, waiting for a slot at most {@code longestWait} (within the queue's own limit): a
   * caller whose deadline comes sooner must not hold a place in the queue, and be handed a slot,
   * after it has gone.
   */
  public Permit enter(String tenant, Duration longestWait) {
    AtomicInteger mine = inside.computeIfAbsent(tenant, t -> new AtomicInteger());
    if (mine.incrementAndGet() > maxPerTenant) {
      leave(mine);
      throw ApiException.unavailable("tenant_overloaded", "this catalog has " + maxPerTenant + " " + what
          + " running or waiting already, retry shortly", 1, null);
    }
    try {
      return new Permit(enterShared(longestWait.compareTo(queueTimeout) < 0 ? longestWait : queueTimeout), mine);
    } catch (RuntimeException e) {
      leave(mine);
      throw e;
    }
  }

  private static void leave(AtomicInteger mine) {
    mine.decrementAndGet();
  }

  /** The shared slot; the permit's close gives it back. */
  private Semaphore enterShared(Duration wait) {
    try {
      // Timed even without a wait: tryAcquire() takes a freed slot ahead of the searches queued
      // for it (fairness or not), and those then time out with 503 behind every newcomer.
      if (running.tryAcquire(0, TimeUnit.MILLISECONDS)) {
        return running;
      }
      if (waiting.incrementAndGet() > maxQueued) {
        waiting.decrementAndGet();
        throw overloaded();
      }
      try {
        if (!running.tryAcquire(Math.max(0, wait.toMillis()), TimeUnit.MILLISECONDS)) {
          throw overloaded();
        }
        return running;
      } finally {
        waiting.decrementAndGet();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw overloaded();
    }
  }

  private ApiException overloaded() {
    return ApiException.unavailable("overloaded", "the search service is at capacity for " + what + ", retry shortly",
        1, null);
  }

  /** Returned by {@link #enter}; gives back the slot and the tenant's place exactly once. */
  public final class Permit implements AutoCloseable {
    private final Semaphore slot;
    private final AtomicInteger tenantInside;
    private boolean closed;

    private Permit(Semaphore slot, AtomicInteger tenantInside) {
      this.slot = slot;
      this.tenantInside = tenantInside;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        slot.release();
        leave(tenantInside);
      }
    }
  }
}
