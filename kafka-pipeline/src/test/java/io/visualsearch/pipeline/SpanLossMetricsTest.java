package io.visualsearch.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.tracing.Tracing;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import org.junit.jupiter.api.Test;

/** What an SRE scrapes when Zipkin refuses a service's spans. */
class SpanLossMetricsTest {

  @Test
  void spansZipkinRefusedAreOnMetricsByReason() throws Exception {
    SpanExporter refusing = new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        return CompletableResultCode.ofFailure();
      }

      @Override
      public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
    Tracing tracing = Tracing.withExporter("image-indexer", refusing);
    PrometheusRegistry registry = new PrometheusRegistry();
    SpanLossMetrics.register(registry, tracing.loss());
    try {
      for (int i = 0; i < 3; i++) {
        tracing.tracer().spanBuilder("handle").startSpan().end();
      }
      tracing.flush();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ExpositionFormats.init().getPrometheusTextFormatWriter().write(out, registry.scrape());
      String text = out.toString(StandardCharsets.UTF_8);
      assertTrue(text.contains("# TYPE tracing_spans_lost_total counter"), text);
      assertTrue(text.contains("tracing_spans_lost_total{reason=\"export_failed\"} 3.0"), text);
      assertTrue(text.contains("tracing_spans_lost_total{reason=\"queue_full\"} 0.0"), text);
    } finally {
      tracing.close();
    }
  }
}
