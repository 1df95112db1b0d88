package io.visualsearch.catalogfeed;

import java.util.Locale;

/**
 * Refuses a feed that would delete more than {@code maxDeleteShare} of a catalog of at least
 * {@code minCatalogSize} products. A truncated export, a feed of the wrong store or a broken
 * product filter looks exactly like this, and applying it would empty the storefront's search;
 * a retailer who really means it re-runs with the guard disabled.
 */
public record DeletionGuard(double maxDeleteShare, int minCatalogSize) {

  public DeletionGuard {
    if (!(maxDeleteShare >= 0 && maxDeleteShare <= 1)) {
      throw new IllegalArgumentException("maxDeleteShare must be within [0, 1]");
    }
    if (minCatalogSize < 0) {
      throw new IllegalArgumentException("minCatalogSize must not be negative");
    }
  }

  public static DeletionGuard defaults() {
    return new DeletionGuard(0.5, 10);
  }

  /** Accepts any deletion: for an operator-confirmed re-run. */
  public static DeletionGuard disabled() {
    return new DeletionGuard(1.0, 0);
  }

  /** {@code previousSize}: the products consumers may hold, i.e. the snapshot's and pending new ones. */
  void check(long previousSize, long deletes) throws FeedRefusedException {
    if (previousSize < minCatalogSize || previousSize == 0) {
      return;
    }
    double share = (double) deletes / previousSize;
    if (share > maxDeleteShare) {
      // The root locale: the host's could write the counts in another script, or the share with a comma.
      throw new FeedRefusedException(FeedRefusedException.Reason.DELETION_GUARD, String.format(Locale.ROOT,
          "the feed would delete %d of %d products (%.0f%%), above the limit of %.0f%%; "
              + "check the export is complete; if the removal is meant, sync this feed once with "
              + "CATALOG_MAX_DELETE_SHARE=1 (catalog-downloader's one-shot sync)",
          deletes, previousSize, share * 100, maxDeleteShare * 100));
    }
  }
}
