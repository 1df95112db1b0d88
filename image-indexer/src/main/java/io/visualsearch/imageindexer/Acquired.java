package io.visualsearch.imageindexer;

import io.visualsearch.imagefetch.FetchResult;

/** What {@link ImageSource} got for a product: its image, or an image host that is failing for now. */
sealed interface Acquired {

  /**
   * The image is stored; {@code state} is what to remember for next time. {@code hostAnswered}:
   * the image host answered this time (a body or a 304), which shows it works; false when the
   * stored copy was reused without asking.
   */
  record Ready(ImageState state, boolean hostAnswered) implements Acquired {}

  /** Connect errors, 429 or 5xx after the fetcher's own retries: worth another round later. */
  record HostFailing(FetchResult.Failed failure) implements Acquired {}
}
