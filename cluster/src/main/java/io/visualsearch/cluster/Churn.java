package io.visualsearch.cluster;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A retailer's day of changes applied to every feed at once: new photos for a share of products
 * (each a training image no product showed before, so the pipeline must fetch, embed and index
 * it anew), price changes, removals and new products. Image changes are what make "stale"
 * checkable: the indexed vector must be the new photo's, not the old one's.
 */
public final class Churn {

  private final Random random;
  private final AtomicInteger nextFreshImage;

  public Churn(Random random, int firstFreshImage) {
    this.random = random;
    this.nextFreshImage = new AtomicInteger(firstFreshImage);
  }

  /** Applies the changes, rewrites every feed, and returns a one-line summary. */
  public String apply(List<TenantFeed> feeds, double imageShare, double priceShare, int removals, int additions)
      throws IOException {
    int images = 0;
    int prices = 0;
    int removed = 0;
    int added = 0;
    for (TenantFeed feed : feeds) {
      List<String> skus = new ArrayList<>(feed.skus());
      Collections.shuffle(skus, random);
      int nImages = (int) Math.round(skus.size() * imageShare);
      int nPrices = (int) Math.round(skus.size() * priceShare);
      int i = 0;
      for (; i < nImages && i < skus.size(); i++, images++) {
        feed.changeImage(skus.get(i), nextFreshImage.getAndIncrement());
      }
      for (int j = 0; j < nPrices && i < skus.size(); j++, i++, prices++) {
        feed.changePrice(skus.get(i));
      }
      for (int j = 0; j < removals && i < skus.size(); j++, i++, removed++) {
        feed.remove(skus.get(i));
      }
      for (int j = 0; j < additions; j++) {
        if (feed.addNext() != null) {
          added++;
        }
      }
      feed.write();
    }
    return "new photos " + images + ", price changes " + prices + ", removed " + removed + ", added " + added;
  }
}
