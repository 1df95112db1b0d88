package io.visualsearch.imageindexer;

import java.util.Optional;

/**
 * How to get a product's image given what was fetched before. A product record arrives for any
 * change (price, title, stock), so most records must not cost a download.
 */
enum Refresh {
  /** New product or new image_link: fetch without validators. */
  DOWNLOAD,
  /** Same link and the server gave validators: ask it whether the image changed (304 = no). */
  CONDITIONAL,
  /**
   * Same link and the server gave no validators: it cannot tell us the image changed, so the
   * stored copy stands (a retailer who changes an image changes its link, or serves ETags).
   */
  REUSE,
  /**
   * Same link, but the stored copy was normalised another way (another {@code IMAGE_MAX_SIDE}, or
   * an earlier normaliser version): fetch without validators, since a 304 would keep that copy, and
   * normalise again. The product is indexed already, so a failing host keeps the stored copy as on
   * a {@link #CONDITIONAL} refresh, and the next record tries again.
   */
  RENORMALISE;

  static Refresh decide(Optional<ImageState> previous, String imageLink, Normalisation current) {
    if (previous.isEmpty() || !previous.get().imageLink().equals(imageLink)) {
      return DOWNLOAD;
    }
    if (!previous.get().normalisation().equals(current)) {
      return RENORMALISE;
    }
    return previous.get().hasValidators() ? CONDITIONAL : REUSE;
  }

  /** A refresh of a product that has a stored copy, which stands when the image host fails. */
  boolean refreshesStored() {
    return this == CONDITIONAL || this == RENORMALISE;
  }
}
