package io.visualsearch.cluster;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Shoppers querying throughout a scenario: a few threads, each posting a random catalog photo of
 * a random tenant, paced so the pipeline keeps most of the two cores. A failure (non-200 or no
 * answer) counts as {@code failed} unless the scenario has declared an outage of the query path
 * itself (search-api or model-server down: with one instance, 503s then are the documented
 * answer) — those are counted apart and bound the measured query recovery time. Likewise before a
 * tenant's first answer: until its first index is published, 503 "no index yet" is the answer.
 */
public final class QueryLoad implements AutoCloseable {

  private final SearchClient client;
  private final SampleCatalog catalog;
  private final List<Thread> threads;
  private final AtomicInteger outages = new AtomicInteger();
  private final AtomicLong ok = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong failedInOutage = new AtomicLong();
  private final AtomicLong lastSuccessNanos = new AtomicLong();
  private final Set<String> indexVersions = ConcurrentHashMap.newKeySet();
  private final Set<String> answeredTenants = ConcurrentHashMap.newKeySet();
  private final Map<String, String> lastErrors = new ConcurrentHashMap<>();
  private volatile boolean running = true;

  public QueryLoad(SearchClient client, SampleCatalog catalog, int threadCount, long pauseMillis) {
    this.client = client;
    this.catalog = catalog;
    this.threads = java.util.stream.IntStream.range(0, threadCount)
        .mapToObj(i -> new Thread(() -> loop(new Random(i), pauseMillis), "query-load-" + i)).toList();
    threads.forEach(t -> {
      t.setDaemon(true);
      t.start();
    });
  }

  private void loop(Random random, long pauseMillis) {
    List<String> tenants = List.copyOf(catalog.apiKeys().keySet());
    while (running) {
      String tenant = tenants.get(random.nextInt(tenants.size()));
      TenantFeed feed = catalog.feed(tenant);
      boolean outageAtStart = outages.get() > 0;
      try {
        byte[] photo = catalog.png(feed.randomImage(random));
        SearchClient.Answer a = client.search(catalog.apiKeys().get(tenant), photo, 5);
        if (a.ok()) {
          ok.incrementAndGet();
          lastSuccessNanos.set(System.nanoTime());
          indexVersions.add(tenant + "@" + a.indexVersion());
          answeredTenants.add(tenant);
        } else {
          fail(outageAtStart || !answeredTenants.contains(tenant), "HTTP " + a.status() + " " + a.error());
        }
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        fail(outageAtStart || !answeredTenants.contains(tenant), e.toString());
      }
      try {
        Thread.sleep(pauseMillis);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void fail(boolean outageAtStart, String why) {
    if (outageAtStart || outages.get() > 0) {
      failedInOutage.incrementAndGet();
    } else {
      failed.incrementAndGet();
      lastErrors.put(why.length() > 160 ? why.substring(0, 160) : why, "");
    }
  }

  /** Failures from now on are expected until {@link #endOutage()}. */
  public void beginOutage() {
    outages.incrementAndGet();
  }

  public void endOutage() {
    outages.decrementAndGet();
  }

  /** Waits for a query that succeeded after {@code sinceNanos}; returns its time, or -1 on timeout. */
  public long awaitSuccessAfter(long sinceNanos, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
    while (System.nanoTime() < deadline) {
      long last = lastSuccessNanos.get();
      if (last > sinceNanos) {
        return last;
      }
      Thread.sleep(50);
    }
    return -1;
  }

  public long ok() {
    return ok.get();
  }

  public long failed() {
    return failed.get();
  }

  public long failedInOutage() {
    return failedInOutage.get();
  }

  /** Distinct {@code tenant@index_version} pairs seen in answers: how many swaps queries went through. */
  public Set<String> indexVersions() {
    return Set.copyOf(indexVersions);
  }

  public Set<String> sampleErrors() {
    return Set.copyOf(lastErrors.keySet());
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    for (Thread t : threads) {
      t.join(35_000);
    }
  }
}
