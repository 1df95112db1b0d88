package io.visualsearch.indexbuilder;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.pipeline.Activity;

/**
 * The builder's own series on /metrics, next to the consumer loop's, and its builds on the health
 * page: a published build is activity, a failed one an error (the loop alone showed a builder
 * that could publish nothing as healthy, busy with embeddings).
 */
final class BuildMetrics {

  /** How an attempt to build a tenant ended. */
  enum Outcome { PUBLISHED, UP_TO_DATE, HELD, LOST_RACE, FAILED }

  private final Counter builds;
  private final Histogram duration;
  private final Gauge vectors;
  private final Gauge products;
  private final Counter gcDeleted;
  private final Gauge announcementsPending;
  private final Counter announcementFailures;
  private final Counter announcementsDropped;
  private final Activity activity;

  /** Series only: the builds are on no health page (tools, tests). */
  BuildMetrics(PrometheusRegistry registry) {
    this(registry, new Activity(new PrometheusRegistry()));
  }

  BuildMetrics(PrometheusRegistry registry, Activity activity) {
    this.activity = activity;
    builds = Counter.builder().name("index_builder_builds_total")
        .help("Tenant build attempts by outcome (published, up_to_date, held, lost_race, failed)")
        .labelNames("outcome").register(registry);
    duration = Histogram.builder().name("index_builder_build_duration_seconds")
        .help("Time from snapshot to CURRENT flipped, for published builds")
        .classicUpperBounds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600).register(registry);
    vectors = Gauge.builder().name("index_builder_published_vectors")
        .help("Vectors in the tenant's index that CURRENT points to").labelNames("tenant").register(registry);
    products = Gauge.builder().name("index_builder_catalog_products")
        .help("Products with a vector in the builder's memory, any model version").labelNames("tenant").register(registry);
    gcDeleted = Counter.builder().name("index_builder_gc_versions_deleted_total")
        .help("Index versions deleted after the retention period").register(registry);
    announcementsPending = Gauge.builder().name("index_builder_announcements_pending")
        .help("Tenants whose published version is not yet acknowledged on index.published (retried with a backoff)")
        .register(registry);
    announcementFailures = Counter.builder().name("index_builder_announcement_failures_total")
        .help("Attempts to send an index.published event that failed").register(registry);
    announcementsDropped = Counter.builder().name("index_builder_announcements_dropped_total")
        .help("Published versions whose manifest could not make an index.published event, never announced")
        .register(registry);
  }

  void attempt(Outcome outcome) {
    builds.labelValues(outcome.name().toLowerCase(java.util.Locale.ROOT)).inc();
    if (outcome == Outcome.FAILED) {
      activity.recordError();
    } else if (outcome == Outcome.PUBLISHED) {
      activity.recordActivity();
    }
  }

  void published(String tenant, int vectorCount, double seconds) {
    duration.observe(seconds);
    serving(tenant, vectorCount);
  }

  /** The tenant's served index, also when found up to date at start-up. */
  void serving(String tenant, long vectorCount) {
    vectors.labelValues(tenant).set(vectorCount);
  }

  void catalog(String tenant, int productCount) {
    products.labelValues(tenant).set(productCount);
  }

  void collected(int versions) {
    gcDeleted.inc(versions);
  }

  void announcementsPending(int tenants) {
    announcementsPending.set(tenants);
  }

  void announcementFailed() {
    announcementFailures.inc();
  }

  /** An error on the health page too: unlike a failed send, nothing retries it. */
  void announcementDropped() {
    announcementsDropped.inc();
    activity.recordError();
  }
}
