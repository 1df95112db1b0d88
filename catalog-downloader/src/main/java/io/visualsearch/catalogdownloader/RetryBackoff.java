package io.visualsearch.catalogdownloader;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;

/**
 * How soon a tenant's scheduled sync that FAILED (the store, the broker, the feed host's outage) is
 * tried again: {@code first}, doubling with each further failure in a row, at most {@code cap} (the
 * sync interval), less up to a fifth at random so tenants failed by one outage do not retry in
 * step; never sooner than the failed sync took, so a feed host that hangs holds the one sync thread
 * at most half the time. {@link #reset} (a sync applied, unchanged or refused) starts over.
 */
final class RetryBackoff {

  /** Up to this share of a retry's delay is taken off at random. */
  static final double JITTER = 0.2;

  private final long firstMs;
  private final long capMs;
  private final DoubleSupplier random;
  /** Per tenant, its scheduled syncs that failed in a row; written by the one sync thread. */
  private final Map<String, Integer> failures = new ConcurrentHashMap<>();

  /**
   * @param first the first retry's delay; zero turns retries off (a failed sync waits for the next interval)
   * @param random uniform in [0, 1): the jitter
   */
  RetryBackoff(Duration first, Duration cap, DoubleSupplier random) {
    this.firstMs = first.toMillis();
    this.capMs = cap.toMillis();
    this.random = random;
  }

  /**
   * Counts a failed sync of the tenant that took {@code took}; answers when to try it again, or
   * nothing when retries are off.
   */
  Optional<Duration> failed(String tenant, Duration took) {
    int inARow = failures.merge(tenant, 1, (a, b) -> Math.min(a + b, 62));
    if (firstMs <= 0 || capMs <= 0) {
      return Optional.empty();
    }
    long backoff = firstMs;
    for (int i = 1; i < inARow && backoff < capMs; i++) {
      backoff *= 2;
    }
    backoff = Math.min(backoff, capMs);
    long jittered = backoff - (long) (backoff * JITTER * random.getAsDouble());
    return Optional.of(Duration.ofMillis(Math.min(capMs, Math.max(jittered, took.toMillis()))));
  }

  /** The tenant's feed was synced (or refused for what it is): its next failure waits {@code first} again. */
  void reset(String tenant) {
    failures.remove(tenant);
  }

  /** The tenant's scheduled syncs that failed in a row. */
  int failures(String tenant) {
    return failures.getOrDefault(tenant, 0);
  }
}
