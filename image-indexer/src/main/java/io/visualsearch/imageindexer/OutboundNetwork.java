package io.visualsearch.imageindexer;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Whether our own way out (DNS resolver, route, egress proxy) looks down, rather than the image
 * hosts. An image host that cannot be resolved or connected to spends its products' retry rounds
 * and ends their records in the dead-letter topic ({@link RetryBudget}, {@link FailingHosts}); when
 * the cause is on our side, every host looks like that, and a minute of lost egress would lose
 * every new product of the minute until its next feed change. The tell: {@code hosts} different
 * hosts unreachable within {@code window} and none answering since. One retailer's CDN being down
 * leaves the other hosts answering; a catalog served by one host alone cannot tell the two apart
 * and is judged as before. Any HTTP answer from any host (an image, a 304, a 404, a 503) clears it.
 *
 * <p>The judgement lasts {@code grace} at most: the waiting records pause every partition, so no
 * other host's product may come along to answer, and three dead domains (typos, an expired name)
 * would otherwise hold their products, and the partitions behind them, for ever. Past it, products
 * spend their rounds as before, and an outage that long loses them as it did.
 */
final class OutboundNetwork {

  private static final int MAX_TRACKED = 1_000;

  private final int hosts;
  private final long windowNanos;
  private final long graceNanos;
  private final LongSupplier nanoTime;
  /** Host → when it was last unreachable since the last answer, newest last. */
  private final Map<String, Long> unreachable = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
      return size() > MAX_TRACKED;
    }
  };
  /** When the current judgement "down" began; 0 while there is none. */
  private long downSince;

  OutboundNetwork(int hosts, Duration window, Duration grace, LongSupplier nanoTime) {
    this.hosts = hosts;
    this.windowNanos = window.toNanos();
    this.graceNanos = grace.toNanos();
    this.nanoTime = nanoTime;
  }

  /** A host answered over HTTP, whatever it said: the way out works. */
  synchronized void answered() {
    unreachable.clear();
    downSince = 0;
  }

  /** {@code host} could not be resolved or connected to. */
  synchronized void unreachable(String host) {
    unreachable.put(host, nanoTime.getAsLong());
  }

  /**
   * True when enough different hosts were unreachable within the window and none answered since,
   * for at most the grace from when that was first seen.
   */
  synchronized boolean looksDown() {
    long now = nanoTime.getAsLong();
    int recent = 0;
    for (long at : unreachable.values()) {
      if (now - at <= windowNanos) {
        recent++;
      }
    }
    if (recent < hosts) {
      downSince = 0; // that episode is over: the next one gets its own grace
      return false;
    }
    if (downSince == 0) {
      downSince = now | 1; // never 0 once set
    }
    return now - downSince <= graceNanos;
  }
}
