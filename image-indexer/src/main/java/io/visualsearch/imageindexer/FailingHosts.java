package io.visualsearch.imageindexer;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Image hosts that keep failing a tenant's products, and tenants whose image hosts keep failing.
 * {@link RetryBudget} bounds the retry rounds of one product, but each round pauses every
 * partition, so a retailer whose CDN is down for a day stalled every tenant's images for the
 * budget of each of its products in turn: hours for a large catalog. Once a tenant's products on
 * a host have used up their budget {@code threshold} times within {@code window}, that tenant's
 * next products on the host are dead-lettered at once, without a fetch or a round; every {@code
 * probeEvery} one of them is let through to try, and an answer from the host clears it. In memory,
 * like the budget.
 *
 * <p>The dead-letter decision is the tenant's own: a CDN shared by several retailers failing one
 * retailer's images (its paths, its account at the CDN) says nothing final about another's, and a
 * product skipped stays unsearchable until its next feed change, so another tenant's failures
 * never skip a product.
 *
 * <p>Per host alone the breaker is bypassed by naming many hosts (wildcard DNS, one address on many
 * closed ports): each gets its own products' full budgets. So a tenant also has a budget of hosts:
 * once its products used up their retries on {@code threshold} different hosts within {@code
 * window}, its next host failure on any host is dead-lettered at once, after the one fetch, without
 * rounds ({@link #outOfRetries}). Its products on hosts that answer still index.
 *
 * <p>Conditional refreshes of images we already hold are judged host-wide, on weaker evidence:
 * {@code threshold} of them failing within {@code window} (each after the fetcher's own attempts)
 * is enough to stop asking the host, since skipping one only keeps a stored image for a while.
 * That evidence never dead-letters a new product.
 */
final class FailingHosts {

  private static final int MAX_TRACKED = 10_000;

  private final int threshold;
  private final long windowNanos;
  private final long probeEveryNanos;
  private final LongSupplier nanoTime;
  private final Map<String, Host> hosts = lru();
  /** Tenant → host → when the tenant's last product on it used up its retries. */
  private final Map<String, Map<String, Long>> tenants = lru();

  private static <V> Map<String, V> lru() {
    return new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > MAX_TRACKED;
      }
    };
  }

  private static final class Host {
    /** Tenant → its products on this host that used up their whole retry budget. */
    final Map<String, Breaker> tenants = new HashMap<>();
    /** Conditional refreshes, of any tenant, that failed through the fetcher's attempts. */
    final Deque<Long> refreshesFailed = new ArrayDeque<>();
    long nextRefreshProbe;
  }

  private static final class Breaker {
    final Deque<Long> givenUp = new ArrayDeque<>();
    long nextProbe;
  }

  FailingHosts(int threshold, Duration window, Duration probeEvery, LongSupplier nanoTime) {
    this.threshold = threshold;
    this.windowNanos = window.toNanos();
    this.probeEveryNanos = probeEvery.toNanos();
    this.nanoTime = nanoTime;
  }

  /** A product of {@code tenant} on {@code host} used up its retry budget: counts for both. */
  synchronized void gaveUp(String tenant, String host) {
    long now = nanoTime.getAsLong();
    Host h = hosts.computeIfAbsent(host, k -> new Host());
    prune(h, now);
    Breaker b = h.tenants.computeIfAbsent(tenant, k -> new Breaker());
    b.givenUp.addLast(now);
    if (b.givenUp.size() >= threshold) {
      b.nextProbe = now + probeEveryNanos;
    }
    gaveUpSlowly(tenant, host);
  }

  /**
   * A product of {@code tenant} on {@code host} used up its retry budget on an answer too slow:
   * it counts against the tenant, whose rounds it held up, but does not mark the host (a large
   * image served slowly says little about its other images).
   */
  synchronized void gaveUpSlowly(String tenant, String host) {
    tenants.computeIfAbsent(tenant, k -> lru()).put(host, nanoTime.getAsLong());
  }

  /** A conditional refresh of a stored image from {@code host} failed through the fetcher's attempts. */
  synchronized void refreshFailed(String host) {
    long now = nanoTime.getAsLong();
    Host h = hosts.computeIfAbsent(host, k -> new Host());
    h.refreshesFailed.addLast(now);
    prune(h, now);
    if (h.refreshesFailed.size() >= threshold) {
      h.nextRefreshProbe = now + probeEveryNanos;
    }
  }

  /**
   * {@code host} answered a request of {@code tenant} (an image or a 304): it works, for everyone.
   * Only then: reusing a stored image without asking says nothing about the host.
   */
  synchronized void succeeded(String tenant, String host) {
    hosts.remove(host);
    Map<String, Long> failed = tenants.get(tenant);
    if (failed != null) {
      failed.remove(host);
    }
  }

  /**
   * True when {@code tenant}'s products used up their retries on {@code threshold} different hosts
   * within the window: its next host failure is given up at once.
   */
  synchronized boolean outOfRetries(String tenant) {
    Map<String, Long> failed = tenants.get(tenant);
    if (failed == null) {
      return false;
    }
    long now = nanoTime.getAsLong();
    failed.values().removeIf(at -> now - at > windowNanos);
    if (failed.isEmpty()) {
      tenants.remove(tenant);
      return false;
    }
    return failed.size() >= threshold;
  }

  /**
   * True when a product of {@code tenant} on {@code host} should be given up without trying: the
   * tenant's products failed there and no probe is due. A due probe is let through (false) once,
   * and the next one scheduled.
   */
  synchronized boolean skip(String tenant, String host) {
    Host h = hosts.get(host);
    if (h == null) {
      return false;
    }
    long now = nanoTime.getAsLong();
    prune(h, now);
    Breaker b = h.tenants.get(tenant);
    return b != null && b.givenUp.size() >= threshold && !probeDue(b, now);
  }

  /**
   * Like {@link #skip}, for a conditional refresh of an image we hold: the host also counts as
   * failing when its refreshes, any tenant's, kept failing. Any answer clears the host.
   */
  synchronized boolean skipRefresh(String tenant, String host) {
    Host h = hosts.get(host);
    if (h == null) {
      return false;
    }
    long now = nanoTime.getAsLong();
    prune(h, now);
    if (h.refreshesFailed.size() >= threshold) {
      if (now - h.nextRefreshProbe >= 0) {
        h.nextRefreshProbe = now + probeEveryNanos;
        return false;
      }
      return true;
    }
    Breaker b = h.tenants.get(tenant);
    return b != null && b.givenUp.size() >= threshold && !probeDue(b, now);
  }

  private boolean probeDue(Breaker b, long now) {
    if (now - b.nextProbe >= 0) {
      b.nextProbe = now + probeEveryNanos;
      return true;
    }
    return false;
  }

  private void prune(Host h, long now) {
    prune(h.refreshesFailed, now);
    for (Iterator<Breaker> it = h.tenants.values().iterator(); it.hasNext(); ) {
      Breaker b = it.next();
      prune(b.givenUp, now);
      if (b.givenUp.isEmpty()) {
        it.remove();
      }
    }
  }

  private void prune(Deque<Long> times, long now) {
    while (!times.isEmpty() && now - times.peekFirst() > windowNanos) {
      times.removeFirst();
    }
  }
}
