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
  REUSE;

  static Refresh decide(Optional<ImageState> previous, String imageLink) {
    if (previous.isEmpty() || !previous.get().imageLink().equals(imageLink)) {
      return DOWNLOAD;
    }
    return previous.get().hasValidators() ? CONDITIONAL : REUSE;
  }
}
