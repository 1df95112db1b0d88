package io.visualsearch.demo;

import io.visualsearch.samplecatalog.FashionMnist;
import io.visualsearch.samplecatalog.SampleImageServer;
import java.io.IOException;
import java.io.PrintStream;

/**
 * The demo's sample query: a Fashion-MNIST test image — a photo no catalog holds — sent as a
 * shopper would, and its answer printed.
 */
final class ShopperQuery {

  static final int QUERY_INDEX = 0;

  private final FashionMnist dataset;
  private final SearchClient client;

  ShopperQuery(FashionMnist dataset, SearchClient client) {
    this.dataset = dataset;
    this.client = client;
  }

  SearchClient.Answer runAndPrint(PrintStream out) throws IOException, InterruptedException {
    FashionMnist.Split test = dataset.test();
    String wanted = test.category(QUERY_INDEX).displayName();
    SearchClient.Answer answer = client.search(SampleImageServer.png(test.image(QUERY_INDEX)), 5);
    out.println();
    out.println("shopper photo: Fashion-MNIST test image " + QUERY_INDEX + ", category " + wanted + ", top 5:");
    if (!answer.ok()) {
      out.println("  search failed: HTTP " + answer.status() + " " + answer.error());
      return answer;
    }
    int rank = 1;
    int same = 0;
    for (SearchClient.Hit h : answer.results()) {
      out.printf("  %d. %-10s %-22s %-14s %-12s score %.3f%n", rank++, h.sku(), h.title(), h.price(),
          shortCategory(h.category()), h.score());
      if (h.title().startsWith(wanted + " ")) {
        same++;
      }
    }
    out.printf("  %d of %d in the photo's category; index %s, model version %d, trace %s%n", same,
        answer.results().size(), answer.indexVersion(), answer.modelVersion(), answer.traceId());
    return answer;
  }

  private static String shortCategory(String category) {
    int cut = category.lastIndexOf('>');
    return cut < 0 ? category : category.substring(cut + 1).trim();
  }
}
