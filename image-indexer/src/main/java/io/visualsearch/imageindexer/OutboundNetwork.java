package io.visualsearch.imageindexer;

import java.time.Duration;
import java.util.HashMap;
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
 * <p>One tenant's hosts never make the judgement: leaving out the hosts only the tenant with most
 * of them failed on, {@code hosts - 1} must remain. A retailer can name as many dead hosts as it
 * likes (wildcard DNS, closed ports), and each judgement holds every partition for up to the
 * grace; our egress down fails every tenant's products alike. While the records flowing are one
 * tenant's alone, the two cannot be told apart and it is judged as that tenant's hosts failing.
 *
 * <p>The judgement lasts {@code grace} at most: the waiting records pause every partition, so no
 * other host's product may come along to answer, and three dead domains (typos, an expired name)
 * would otherwise hold their products, and the partitions behind them, for ever. Past it, products
 * spend their rounds as before, and an outage that long loses them as it did.
 */
final class OutboundNetwork {

  private static final int MAX_TRACKED = 1_000;
  /** A host unreachable for products of several tenants; compared by identity. */
  private static final String SEVERAL = new String("several tenants");

  private final int hosts;
  private final long windowNanos;
  private final long graceNanos;
  private final LongSupplier nanoTime;
  /** (host, tenant) → when the host was last unreachable for the tenant since the last answer, newest last. */
  private final Map<Attempt, Long> unreachable = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Attempt, Long> eldest) {
      return size() > MAX_TRACKED;
    }
  };
  private record Attempt(String host, String tenant) {}

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

  /** {@code host} could not be resolved or connected to for a product of {@code tenant}. */
  synchronized void unreachable(String tenant, String host) {
    unreachable.put(new Attempt(host, tenant), nanoTime.getAsLong());
  }

  /**
   * True when enough different hosts, of more than one tenant, were unreachable within the window
   * and none answered since, for at most the grace from when that was first seen.
   */
  synchronized boolean looksDown() {
    long now = nanoTime.getAsLong();
    Map<String, String> onlyTenantOf = new HashMap<>(); // host → its one tenant, or SEVERAL
    unreachable.forEach((attempt, at) -> {
      if (now - at <= windowNanos) {
        onlyTenantOf.merge(attempt.host(), attempt.tenant(), (a, b) -> a != SEVERAL && a.equals(b) ? a : SEVERAL);
      }
    });
    Map<String, Integer> ownHosts = new HashMap<>();
    onlyTenantOf.values().stream().filter(t -> t != SEVERAL).forEach(t -> ownHosts.merge(t, 1, Integer::sum));
    int mostOwn = ownHosts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    int recent = onlyTenantOf.size();
    if (recent < hosts || recent - mostOwn < hosts - 1) {
      downSince = 0; // that episode is over: the next one gets its own grace
      return false;
    }
    if (downSince == 0) {
      downSince = now | 1; // never 0 once set
    }
    return now - downSince <= graceNanos;
  }
}
