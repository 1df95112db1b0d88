package io.visualsearch.imageindexer;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Image hosts that keep failing. {@link RetryBudget} bounds the retry rounds of one product, but
 * each round pauses every partition, so a retailer whose CDN is down for a day stalled every
 * tenant's images for the budget of each of its products in turn: hours for a large catalog. Once
 * a host has used up the budget of {@code threshold} products within {@code window}, its products
 * are dead-lettered at once, without a fetch or a round; every {@code probeEvery} one of them is
 * let through to try, and an answer from the host clears it. In memory, like the budget.
 *
 * <p>Conditional refreshes of images we already hold are judged on weaker evidence: {@code
 * threshold} of them failing within {@code window} (each after the fetcher's own attempts) is
 * enough to stop asking the host, since skipping one only keeps a stored image for a while. That
 * evidence never dead-letters a new product: losing a product until its next feed change needs
 * the stronger kind, as before.
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
    /** Products that used up their whole retry budget. */
    final Deque<Long> givenUp = new ArrayDeque<>();
    /** Conditional refreshes that failed through the fetcher's attempts. */
    final Deque<Long> refreshesFailed = new ArrayDeque<>();
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
    failed(host, h -> h.givenUp);
  }

  /** A conditional refresh of a stored image from {@code host} failed through the fetcher's attempts. */
  synchronized void refreshFailed(String host) {
    failed(host, h -> h.refreshesFailed);
  }

  /**
   * Records a failure of {@code host} now among its failures of one {@code kind}, and schedules the
   * next probe once that kind reaches the threshold within the window.
   */
  private void failed(String host, Function<Host, Deque<Long>> kind) {
    long now = nanoTime.getAsLong();
    Host h = hosts.computeIfAbsent(host, k -> new Host());
    Deque<Long> failures = kind.apply(h);
    failures.addLast(now);
    prune(h, now);
    if (failures.size() >= threshold) {
      h.nextProbe = now + probeEveryNanos;
    }
  }

  /**
   * {@code host} answered a request (an image or a 304): it works. Only then: reusing a stored
   * image without asking says nothing about the host.
   */
  synchronized void succeeded(String host) {
    hosts.remove(host);
  }

  /**
   * True when a product of {@code host} should be given up without trying: the host is failing
   * and no probe is due. A due probe is let through (false) once, and the next one scheduled.
   */
  synchronized boolean skip(String host) {
    return skip(host, false);
  }

  /**
   * Like {@link #skip}, for a conditional refresh of an image we hold: the host also counts as
   * failing when its refreshes kept failing. The probe is shared: any answer clears the host.
   */
  synchronized boolean skipRefresh(String host) {
    return skip(host, true);
  }

  private boolean skip(String host, boolean refresh) {
    Host h = hosts.get(host);
    if (h == null) {
      return false;
    }
    long now = nanoTime.getAsLong();
    prune(h, now);
    boolean failing = h.givenUp.size() >= threshold || refresh && h.refreshesFailed.size() >= threshold;
    if (!failing) {
      return false;
    }
    if (now - h.nextProbe >= 0) {
      h.nextProbe = now + probeEveryNanos;
      return false;
    }
    return true;
  }

  private void prune(Host h, long now) {
    prune(h.givenUp, now);
    prune(h.refreshesFailed, now);
  }

  private void prune(Deque<Long> times, long now) {
    while (!times.isEmpty() && now - times.peekFirst() > windowNanos) {
      times.removeFirst();
    }
  }
}
