package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class SyncMetricsTest {

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final SyncMetrics metrics = new SyncMetrics(registry,
      Clock.fixed(Instant.parse("2026-12-07T10:00:00Z"), ZoneOffset.UTC));

  private double counter(String tenant, String status) {
    for (MetricSnapshot m : registry.scrape()) {
      if (m instanceof CounterSnapshot c && m.getMetadata().getName().equals("catalog_sync")) {
        for (var d : c.getDataPoints()) {
          if (d.getLabels().equals(Labels.of("status", status, "tenant", tenant))) {
            return d.getValue();
          }
        }
      }
    }
    return 0;
  }

  private Double lastSuccess(String tenant) {
    for (MetricSnapshot m : registry.scrape()) {
      if (m instanceof GaugeSnapshot g && m.getMetadata().getName().equals("catalog_sync_last_success_timestamp_seconds")) {
        for (var d : g.getDataPoints()) {
          if (d.getLabels().equals(Labels.of("tenant", tenant))) {
            return d.getValue();
          }
        }
      }
    }
    return null;
  }

  @Test
  void eachTenantsOutcomesAreCountedAndItsLastSuccessTimed() throws Exception {
    FeedLocation acme = FeedLocation.parse("acme=file:///srv/feeds/acme.tsv");
    FeedLocation shop = FeedLocation.parse("shop=file:///srv/feeds/shop.tsv");
    SyncScheduler.SyncJob job = metrics.counting((source, progress) -> {
      if (source.equals(shop)) {
        return SyncReport.failed(source.tenant(), source.display(), SyncReport.Status.REFUSED, "malformed feed");
      }
      return SyncReport.notModified(source.tenant(), source.display());
    });
    job.run(acme, n -> { });
    job.run(shop, n -> { });
    job.run(shop, n -> { });
    assertEquals(1, counter("acme", "not_modified"));
    assertEquals(2, counter("shop", "refused"));
    assertEquals(Instant.parse("2026-12-07T10:00:00Z").getEpochSecond(), lastSuccess("acme"));
    assertEquals(null, lastSuccess("shop"), "a refused feed is no success: its alert on the timestamp fires");

    SyncScheduler.SyncJob down = metrics.counting((source, progress) -> {
      throw new IOException("S3 answered 503 Slow Down");
    });
    assertThrows(IOException.class, () -> down.run(acme, n -> { }));
    assertEquals(1, counter("acme", "failed"));
  }
}
