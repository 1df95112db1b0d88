package io.visualsearch.demo;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Decides when a catalog is searchable the way a shopper would: products spread over the feed
 * (all of them when {@code count} is the catalog's size), each queried with its own catalog photo,
 * must come back first.
 */
public final class IngestProbe {

  /** How a wait ended. */
  public enum Outcome { SEARCHABLE, TIMED_OUT, ABORTED }

  private final SearchClient client;
  private final SampleShop shop;
  private final List<Integer> probes = new ArrayList<>();
  // What the last search that failed said; cleared by a 200. A 401 or a 500 is not "not yet": the
  // progress line and the timeout message say it, so a wrong key does not look like a slow ingest.
  private volatile String lastProblem;

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
    return await(timeout, () -> false, progress) == Outcome.SEARCHABLE;
  }

  /**
   * Polls until every probe is found first, {@code timeout} passes, or {@code abort} says waiting
   * is pointless (a service of the pipeline stopped): checked before every pass, so it ends the wait
   * within a second.
   */
  public Outcome await(Duration timeout, BooleanSupplier abort, Consumer<String> progress)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long nextReport = 0;
    // A product once found stays found (removals are not this probe's business), and a pass stops
    // at the first product still missing: a pass costs one query per newly searchable product plus
    // one, so probing a whole catalog while it is being ingested stays cheap.
    List<Integer> pending = new ArrayList<>(probes);
    while (System.nanoTime() < deadline) {
      if (abort.getAsBoolean()) {
        return Outcome.ABORTED;
      }
      for (Iterator<Integer> it = pending.iterator(); it.hasNext() && foundFirst(it.next()); ) {
        it.remove();
      }
      if (pending.isEmpty()) {
        return Outcome.SEARCHABLE;
      }
      if (System.nanoTime() >= nextReport) {
        // A pass stops at the first miss: this is how far along the feed the found ones reach, a
        // floor on how many are searchable.
        String problem = lastProblem;
        progress.accept("the first " + (probes.size() - pending.size()) + " of " + probes.size()
            + " probed products searchable" + (problem == null ? "" : "; last search failed: " + problem));
        nextReport = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      }
      Thread.sleep(1000);
    }
    return Outcome.TIMED_OUT;
  }

  /** What the last failed search said (an HTTP status and error, or the connection's error); null after a 200. */
  public String lastProblem() {
    return lastProblem;
  }

  private boolean foundFirst(int index) {
    try {
      SearchClient.Answer answer = client.search(shop.catalogImage(index), 3);
      lastProblem = answer.ok() ? null : "HTTP " + answer.status() + " " + answer.error();
      return isFirst(answer, SampleShop.sku(index));
    } catch (IOException e) {
      lastProblem = e.toString();
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
