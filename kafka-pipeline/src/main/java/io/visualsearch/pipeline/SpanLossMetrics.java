package io.visualsearch.pipeline;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.tracing.SpanLoss;

/**
 * The spans a service recorded and lost before Zipkin ({@link SpanLoss}) on its ops port's
 * {@code /metrics}, as {@code tracing_spans_lost_total{reason="queue_full"|"export_failed"}}: a
 * trace with a hole in it is then told apart from one whose spans were never made.
 */
public final class SpanLossMetrics {

  private SpanLossMetrics() {}

  public static void register(PrometheusRegistry registry, SpanLoss loss) {
    CounterWithCallback.builder().name("tracing_spans_lost_total")
        .help("Spans recorded but not delivered to Zipkin: dropped with the export queue full, or in a batch the"
            + " exporter failed to send")
        .labelNames("reason")
        .callback(cb -> {
          cb.call(loss.queueFull(), "queue_full");
          cb.call(loss.exportFailed(), "export_failed");
        })
        .register(registry);
  }
}
