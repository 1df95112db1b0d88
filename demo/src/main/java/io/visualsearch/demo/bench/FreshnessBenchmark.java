package io.visualsearch.demo.bench;

import io.visualsearch.benchmarks.BenchOptions;
import io.visualsearch.benchmarks.BenchRun;
import io.visualsearch.demo.SampleShop;
import io.visualsearch.demo.SearchClient;
import io.visualsearch.samplecatalog.FashionMnist;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * {@code ./visual-search bench freshness}: from a retailer's feed change to the first shopper query
 * that sees it — the feed rewritten, the sync requested, catalog-downloader's diff, the pipeline,
 * search-api's delta — for price changes and removals alternately. After a removal is first
 * invisible, further queries check that it never comes back.
 *
 * <p>Last lines: {@code freshness_p99_vs_2s} (target ≤ 1), {@code removed_returned_after_gone}
 * (must be 0).
 */
public final class FreshnessBenchmark {

  private FreshnessBenchmark() {}

  public static void main(String[] args) {
    BenchRun.runAndExit(() -> run(args));
  }

  static void run(String[] args) throws Exception {
    BenchOptions o = new BenchOptions(args);
    int size = o.integer("size", 300);
    int changes = o.integer("changes", 20);
    int recheck = o.integer("recheck", 20);
    Path modelBase = Path.of(o.string("model-base", "default-model/target/models"));
    o.rejectUnknown();
    if (changes * 7 > size) {
      throw new IllegalArgumentException("--size must be at least 7 x --changes so every change hits a new product");
    }
    FashionMnist dataset = FashionMnist.debian();
    System.out.println("bench freshness: " + size + " products, " + changes
        + " feed changes (price change / removal alternately), each timed from the feed write to the first query"
        + " that sees it; cores=" + Runtime.getRuntime().availableProcessors());
    try (BenchDeployment d = BenchDeployment.ingested(dataset, size, modelBase)) {
      SampleShop shop = d.shop();
      SearchClient client = d.client();
      double[] millis = new double[changes];
      int comeBacks = 0;
      int timeouts = 0;
      for (int c = 0; c < changes; c++) {
        int index = c * 7;
        String sku = SampleShop.sku(index);
        byte[] photo = shop.catalogImage(index);
        boolean removal = c % 2 == 1;
        String price = String.format(Locale.ROOT, "%d.%02d USD", 500 + c, c);
        long t0 = System.nanoTime();
        if (removal) {
          shop.remove(sku);
        } else {
          shop.set(sku, "price", price);
          shop.set(sku, "sale_price", "");
        }
        d.sync();
        long deadline = t0 + Duration.ofSeconds(60).toNanos();
        boolean seen = false;
        while (!seen && System.nanoTime() < deadline) {
          SearchClient.Answer a = client.search(photo, 10);
          seen = a.ok() && (removal
              ? a.results().stream().noneMatch(h -> h.sku().equals(sku))
              : a.results().stream().anyMatch(h -> h.sku().equals(sku) && h.price().startsWith(price.split(" ")[0])));
          if (!seen) {
            Thread.sleep(20);
          }
        }
        millis[c] = (System.nanoTime() - t0) / 1e6;
        if (!seen) {
          timeouts++;
        }
        if (removal) {
          for (int i = 0; i < recheck; i++) {
            if (client.search(photo, 50).results().stream().anyMatch(h -> h.sku().equals(sku))) {
              comeBacks++;
            }
          }
        }
        System.out.printf(Locale.ROOT, "  %-8s %s %8.0f ms%s%n", removal ? "removal" : "price", sku, millis[c],
            seen ? "" : " (not seen within 60 s)");
      }
      Percentiles p = new Percentiles(millis);
      System.out.printf(Locale.ROOT, "freshness p50 %.0f ms, p99 %.0f ms over %d changes%n", p.at(50), p.at(99), changes);
      System.out.printf(Locale.ROOT, "changes_not_seen=%d%n", timeouts);
      System.out.printf(Locale.ROOT, "removed_returned_after_gone=%d%n", comeBacks);
      System.out.printf(Locale.ROOT, "freshness_p99_vs_2s=%.3f%n", p.at(99) / 2000.0);
    }
  }
}
