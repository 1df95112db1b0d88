package io.visualsearch.catalogdownloader;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.time.Clock;
import java.util.Locale;

/**
 * Each tenant's sync outcomes as metrics an alert can be scoped by: {@code catalog_sync_total{tenant,
 * status}} and {@code catalog_sync_last_success_timestamp_seconds{tenant}} (applied or unchanged).
 * The health page has one row for the service, which a single retailer's bad feed turned red with
 * no tenant named, and a feed that fails to download dead-letters nothing: "acme's catalog has not
 * synced for a day" could not be asked of anything.
 */
final class SyncMetrics {

  private final Counter syncs;
  private final Gauge lastSuccess;
  private final Clock clock;

  SyncMetrics(PrometheusRegistry registry, Clock clock) {
    this.clock = clock;
    this.syncs = Counter.builder().name("catalog_sync_total")
        .help("Catalog syncs by tenant and outcome (applied, not_modified, refused, failed, busy)")
        .labelNames("tenant", "status").register(registry);
    this.lastSuccess = Gauge.builder().name("catalog_sync_last_success_timestamp_seconds")
        .help("When the tenant's feed was last synced, applied or found unchanged (Unix seconds)")
        .labelNames("tenant").register(registry);
  }

  /** {@code job}, each run counted by its outcome; one that throws counts as failed. */
  SyncScheduler.SyncJob counting(SyncScheduler.SyncJob job) {
    return (source, progress) -> {
      SyncReport report;
      try {
        report = job.run(source, progress);
      } catch (IOException | InterruptedException | RuntimeException e) {
        syncs.labelValues(source.tenant(), "failed").inc();
        throw e;
      }
      record(source.tenant(), report.status());
      return report;
    };
  }

  void record(String tenant, SyncReport.Status status) {
    syncs.labelValues(tenant, status.name().toLowerCase(Locale.ROOT)).inc();
    if (status == SyncReport.Status.APPLIED || status == SyncReport.Status.NOT_MODIFIED) {
      lastSuccess.labelValues(tenant).set(clock.millis() / 1000.0);
    }
  }
}
