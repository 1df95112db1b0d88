package io.visualsearch.demo;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Decides when a catalog is searchable the way a shopper would: a handful of products spread over
 * the feed, each queried with its own catalog photo, must come back first.
 */
public final class IngestProbe {

  private final SearchClient client;
  private final SampleShop shop;
  private final List<Integer> probes = new ArrayList<>();

  public IngestProbe(SearchClient client, SampleShop shop, int count) {
    this.client = client;
    this.shop = shop;
    int n = shop.size();
    for (int i = 0; i < Math.min(count, n); i++) {
      probes.add((int) ((long) i * (n - 1) / Math.max(1, count - 1)));
    }
  }

  /** Polls until every probe is found first; false when {@code timeout} passes first. */
  public boolean await(Duration timeout, Consumer<String> progress) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long nextReport = 0;
    // A product once found stays found (removals are not this probe's business): only the
    // pending ones are asked again, so probing a whole catalog stays cheap.
    List<Integer> pending = new ArrayList<>(probes);
    while (System.nanoTime() < deadline) {
      pending.removeIf(this::foundFirst);
      if (pending.isEmpty()) {
        return true;
      }
      if (System.nanoTime() >= nextReport) {
        progress.accept((probes.size() - pending.size()) + "/" + probes.size() + " probe products searchable");
        nextReport = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      }
      Thread.sleep(1000);
    }
    return false;
  }

  private boolean foundFirst(int index) {
    try {
      return isFirst(client.search(shop.catalogImage(index), 3), SampleShop.sku(index));
    } catch (IOException e) {
      return false; // search-api not answering yet: not searchable yet.
    }
  }

  /** First, or tied with the first: Fashion-MNIST has a few pixel-identical images. */
  static boolean isFirst(SearchClient.Answer answer, String sku) {
    if (!answer.ok() || answer.results().isEmpty()) {
      return false;
    }
    double best = answer.results().get(0).score();
    return answer.results().stream().anyMatch(h -> h.sku().equals(sku) && best - h.score() < 1e-5);
  }
}
