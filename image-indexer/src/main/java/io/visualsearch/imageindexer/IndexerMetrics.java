package io.visualsearch.imageindexer;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * What the indexer did with each product's image, on /metrics. Downloads are what a retailer's
 * image host pays for, so they are counted apart from conditional checks and reuse.
 */
final class IndexerMetrics {

  private final Counter downloads;
  private final Counter notModified;
  private final Counter reused;
  private final Counter stored;
  private final Counter keptStale;
  private final Counter refused;
  private final Counter renormalised;
  private final Counter swept;
  private final Counter refreshed;

  IndexerMetrics(PrometheusRegistry registry) {
    downloads = Counter.builder().name("image_indexer_downloads_total")
        .help("Image bodies downloaded (new or changed link, or a conditional GET answered 200)").register(registry);
    notModified = Counter.builder().name("image_indexer_not_modified_total")
        .help("Conditional GETs answered 304: stored image kept, nothing downloaded").register(registry);
    reused = Counter.builder().name("image_indexer_reused_total")
        .help("Products whose stored image was reused without contacting the image host").register(registry);
    stored = Counter.builder().name("image_indexer_images_stored_total")
        .help("Normalised images written to the object store (new content addresses)").register(registry);
    keptStale = Counter.builder().name("image_indexer_kept_stale_total")
        .help("Refreshes of a stored image (conditional, or re-normalising) the image host could not answer: the"
            + " stored image re-announced unchecked, by"
            + " reason (host-failing: not asked, the host is marked failing; host-unavailable: 5xx, 429 or no"
            + " connection after the fetcher's attempts)").labelNames("reason").register(registry);
    renormalised = Counter.builder().name("image_indexer_renormalised_total")
        .help("Downloads of a product's unchanged image link because its stored copy was normalised another way"
            + " (another IMAGE_MAX_SIDE or normaliser version); also counted in image_indexer_downloads_total")
        .register(registry);
    swept = Counter.builder().name("image_indexer_images_swept_total")
        .help("Normalised images deleted because no product used them for IMAGE_SWEEP_GRACE").register(registry);
    refreshed = Counter.builder().name("image_indexer_images_refreshed_total")
        .help("Stored images written again because a product took up one older than half of IMAGE_SWEEP_GRACE,"
            + " so that no sweep deletes it").register(registry);
    refused = Counter.builder().name("image_indexer_refused_total")
        .help("Products dead-lettered because of their image, by reason").labelNames("reason").register(registry);
  }

  void downloaded() {
    downloads.inc();
  }

  void notModified() {
    notModified.inc();
  }

  void reused() {
    reused.inc();
  }

  void stored() {
    stored.inc();
  }

  void keptStale(String reason) {
    keptStale.labelValues(reason).inc();
  }

  void renormalised() {
    renormalised.inc();
  }

  void swept() {
    swept.inc();
  }

  void refreshed() {
    refreshed.inc();
  }

  void refused(String reason) {
    refused.labelValues(reason).inc();
  }
}
