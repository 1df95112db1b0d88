package io.visualsearch.imageindexer;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Image hosts that keep failing. {@link RetryBudget} bounds the retry rounds of one product, but
 * each round pauses every partition, so a retailer whose CDN is down for a day stalled every
 * tenant's images for the budget of each of its products in turn: hours for a large catalog. Once
 * a host has used up the budget of {@code threshold} products within {@code window}, its products
 * are dead-lettered at once, without a fetch or a round; every {@code probeEvery} one of them is
 * let through to try, and a success clears the host. In memory, like the budget.
 */
final class FailingHosts {

  private static final int MAX_TRACKED = 10_000;

  private final int threshold;
  private final long windowNanos;
  private final long probeEveryNanos;
  private final LongSupplier nanoTime;
  private final Map<String, Host> hosts = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Host> eldest) {
      return size() > MAX_TRACKED;
    }
  };

  private static final class Host {
    final Deque<Long> givenUp = new ArrayDeque<>();
    long nextProbe;
  }

  FailingHosts(int threshold, Duration window, Duration probeEvery, LongSupplier nanoTime) {
    this.threshold = threshold;
    this.windowNanos = window.toNanos();
    this.probeEveryNanos = probeEvery.toNanos();
    this.nanoTime = nanoTime;
  }

  /** A product of {@code host} used up its retry budget. */
  synchronized void gaveUp(String host) {
    long now = nanoTime.getAsLong();
    Host h = hosts.computeIfAbsent(host, k -> new Host());
    h.givenUp.addLast(now);
    prune(h, now);
    if (h.givenUp.size() >= threshold) {
      h.nextProbe = now + probeEveryNanos;
    }
  }

  /** A product of {@code host} was fetched: the host works. */
  synchronized void succeeded(String host) {
    hosts.remove(host);
  }

  /**
   * True when a product of {@code host} should be given up without trying: the host is failing
   * and no probe is due. A due probe is let through (false) once, and the next one scheduled.
   */
  synchronized boolean skip(String host) {
    Host h = hosts.get(host);
    if (h == null) {
      return false;
    }
    long now = nanoTime.getAsLong();
    prune(h, now);
    if (h.givenUp.size() < threshold) {
      return false;
    }
    if (now - h.nextProbe >= 0) {
      h.nextProbe = now + probeEveryNanos;
      return false;
    }
    return true;
  }

  private void prune(Host h, long now) {
    while (!h.givenUp.isEmpty() && now - h.givenUp.peekFirst() > windowNanos) {
      h.givenUp.removeFirst();
    }
  }
}
