package io.visualsearch.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.concurrent.atomic.LongAdder;

/**
 * Spans a service recorded that never reached Zipkin: the ones the batching processor dropped with
 * its queue full (read from the SDK's own {@code processedSpans{dropped=true}} count through a
 * meter provider of our own, so nothing is exported as OpenTelemetry metrics), and the ones in
 * batches the exporter failed to send (Zipkin down or refusing). An SRE following a trace with a
 * hole in it can tell lost spans from spans never made. Exposing the counts is the service's job.
 * The processor's count is the SDK's legacy instrumentation, not a stable API: {@code SpanLossTest}
 * fails if an SDK upgrade renames it.
 */
public final class SpanLoss {

  private static final AttributeKey<Boolean> DROPPED = AttributeKey.booleanKey("dropped");

  private final LongAdder exportFailed = new LongAdder();
  private final ProcessorCounts reader = new ProcessorCounts();
  private final SdkMeterProvider meters = SdkMeterProvider.builder().registerMetricReader(reader).build();

  /** For the batching processor's own instrumentation. */
  SdkMeterProvider meterProvider() {
    return meters;
  }

  /** {@code exporter}, counting the spans of every batch it fails to send. */
  SpanExporter counting(SpanExporter exporter) {
    return new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        int n = spans.size();
        CompletableResultCode result = exporter.export(spans);
        result.whenComplete(() -> {
          if (!result.isSuccess()) {
            exportFailed.add(n);
          }
        });
        return result;
      }

      @Override
      public CompletableResultCode flush() {
        return exporter.flush();
      }

      @Override
      public CompletableResultCode shutdown() {
        return exporter.shutdown();
      }
    };
  }

  /** Spans dropped because the export queue was full. */
  public long queueFull() {
    CollectionRegistration registration = reader.registration;
    if (registration == null) {
      return 0;
    }
    long dropped = 0;
    for (MetricData m : registration.collectAllMetrics()) {
      if (m.getName().equals("processedSpans")) {
        for (LongPointData p : m.getLongSumData().getPoints()) {
          if (Boolean.TRUE.equals(p.getAttributes().get(DROPPED))) {
            dropped += p.getValue();
          }
        }
      }
    }
    return dropped;
  }

  /** Spans in batches the exporter failed to send. */
  public long exportFailed() {
    return exportFailed.sum();
  }

  void close() {
    meters.shutdown();
  }

  /** Reads the processor's counters when asked, and never on a schedule. */
  private static final class ProcessorCounts implements MetricReader {
    private volatile CollectionRegistration registration;

    @Override
    public void register(CollectionRegistration registration) {
      this.registration = registration;
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
      return AggregationTemporality.CUMULATIVE;
    }

    @Override
    public CompletableResultCode forceFlush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
