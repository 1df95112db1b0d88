package io.visualsearch.demo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Queries continuously while a model rolls out and records what each answer says: its status,
 * index version and model version, and whether the photo's product came first.
 */
final class RolloutWatch {

  private final List<SearchClient> clients;
  private final List<SampleShop> shops;
  private final int products;
  private final List<String> failures = new ArrayList<>();
  private final List<String> wrongFirst = new ArrayList<>();
  private final List<String> wentBack = new ArrayList<>();
  /** Per tenant and index version, the first few answers' traces, to check how their queries were embedded. */
  private final Map<String, List<Sample>> samples = new HashMap<>();
  private final Map<String, Long> newestSeen = new HashMap<>();
  private final AtomicInteger answered = new AtomicInteger();
  private volatile boolean running;
  private Thread thread;

  RolloutWatch(List<SearchClient> clients, List<SampleShop> shops, int products) {
    this.clients = clients;
    this.shops = shops;
    this.products = products;
  }

  void start() {
    running = true;
    thread = new Thread(this::loop, "rollout-watch");
    thread.start();
  }

  private void loop() {
    int n = 0;
    while (running) {
      int which = n % clients.size();
      int index = (n / clients.size()) % products;
      n++;
      SampleShop shop = shops.get(which);
      try {
        if (!shop.hasProduct(SampleShop.sku(index))) {
          continue;
        }
        SearchClient.Answer a = clients.get(which).search(shop.catalogImage(index), 3);
        record(shop.tenant(), SampleShop.sku(index), a);
      } catch (Exception e) {
        synchronized (this) {
          note(failures, shop.tenant() + " " + e);
        }
      }
      answered.incrementAndGet();
    }
  }

  private synchronized void record(String tenant, String sku, SearchClient.Answer a) {
    if (!a.ok()) {
      note(failures, tenant + " HTTP " + a.status() + " " + a.error());
      return;
    }
    List<Sample> ofIndex = samples.computeIfAbsent(tenant + " index " + a.indexVersion(), k -> new ArrayList<>());
    if (ofIndex.size() < 3 && a.traceId() != null) {
      ofIndex.add(new Sample(tenant + " index " + a.indexVersion(), a.traceId(), a.modelVersion()));
    }
    long newest = newestSeen.getOrDefault(tenant, 0L);
    if (a.modelVersion() < newest) {
      note(wentBack, tenant + " answered from model " + a.modelVersion() + " after " + newest);
    }
    newestSeen.put(tenant, Math.max(newest, a.modelVersion()));
    if (!IngestProbe.isFirst(a, sku)) {
      note(wrongFirst, tenant + " " + sku + " -> " + a.results());
    }
  }

  /** Keeps the first few examples of a problem and counts the rest, so a failure stays readable. */
  private static void note(List<String> problems, String problem) {
    if (problems.size() < 5) {
      problems.add(problem);
    } else if (problems.size() == 5) {
      problems.add("... and more");
    }
  }

  synchronized boolean sawVersion(String tenant, long version) {
    return newestSeen.getOrDefault(tenant, 0L) >= version;
  }

  /** Waits until {@code count} more queries were answered. */
  void queries(int count) throws InterruptedException {
    int target = answered.get() + count;
    while (answered.get() < target && thread.isAlive()) {
      Thread.sleep(50);
    }
  }

  void stop() throws InterruptedException {
    running = false;
    thread.join(30_000);
  }

  synchronized List<String> failures() {
    return List.copyOf(failures);
  }

  /** An answer: what it names as its model version (its index's) and the trace of its query. */
  record Sample(String index, String traceId, long modelVersion) {}

  synchronized List<Sample> samples() {
    return samples.values().stream().flatMap(List::stream).toList();
  }

  synchronized List<String> wentBack() {
    return List.copyOf(wentBack);
  }

  synchronized List<String> wrongFirst() {
    return List.copyOf(wrongFirst);
  }
}
