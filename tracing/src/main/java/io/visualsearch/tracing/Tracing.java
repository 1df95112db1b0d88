package io.visualsearch.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.exporter.zipkin.ZipkinSpanExporter;
import io.opentelemetry.extension.trace.propagation.B3Propagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.visualsearch.config.Config;
import zipkin2.reporter.urlconnection.URLConnectionSender;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One service's OpenTelemetry SDK, exporting to Zipkin. Owned by the service (never registered as
 * the global instance) so tests can run several "services" in one JVM, each with its own name.
 * Context is written as W3C {@code traceparent} and read from either W3C or B3 headers.
 */
public final class Tracing implements Component {

  private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
  private static final AttributeKey<String> INSTANCE_ID = AttributeKey.stringKey("service.instance.id");

  /** The batching processor's queue, as the SDK's default: spans beyond it are dropped, and counted. */
  static final int MAX_QUEUED_SPANS = 2048;

  private final OpenTelemetrySdk sdk;
  private final String service;
  private final SpanLoss loss;

  private Tracing(OpenTelemetrySdk sdk, String service, SpanLoss loss) {
    this.sdk = sdk;
    this.service = service;
    this.loss = loss;
  }

  public static Tracing create(String service, String instance, Config config) {
    String endpoint = config.get(TracingSettings.ZIPKIN_ENDPOINT).strip();
    double ratio = config.get(TracingSettings.SAMPLE_RATIO);
    if ("none".equalsIgnoreCase(endpoint)) {
      return create(service, instance, ratio, SpanProcessor.composite(), new SpanLoss());
    }
    return exporting(service, instance, ratio,
        ZipkinSpanExporter.builder().setSender(URLConnectionSender.create(endpoint)).build(), Duration.ofMillis(500),
        MAX_QUEUED_SPANS);
  }

  /** For tests and tools that bring their own exporter. */
  public static Tracing withExporter(String service, SpanExporter exporter) {
    return exporting(service, service, 1.0, exporter, Duration.ofMillis(100), MAX_QUEUED_SPANS);
  }

  /** Batched to {@code exporter}, what is lost on the way counted. */
  static Tracing exporting(String service, String instance, double ratio, SpanExporter exporter, Duration delay,
      int maxQueued) {
    SpanLoss loss = new SpanLoss();
    SpanProcessor processor = BatchSpanProcessor.builder(loss.counting(exporter)).setScheduleDelay(delay)
        .setMaxQueueSize(maxQueued).setMaxExportBatchSize(Math.min(512, maxQueued))
        .setMeterProvider(loss.meterProvider()).build();
    return create(service, instance, ratio, processor, loss);
  }

  private static Tracing create(String service, String instance, double ratio, SpanProcessor processor,
      SpanLoss loss) {
    Resource resource = Resource.getDefault().merge(Resource.create(
        Attributes.of(SERVICE_NAME, service, INSTANCE_ID, instance)));
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(resource)
        .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(ratio)))
        .addSpanProcessor(processor)
        .build();
    TextMapPropagator propagator = new ReadBothWriteW3c(
        W3CTraceContextPropagator.getInstance(), B3Propagator.injectingMultiHeaders());
    OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
        .setTracerProvider(provider)
        .setPropagators(ContextPropagators.create(propagator))
        .build();
    return new Tracing(sdk, service, loss);
  }

  /** What was recorded and lost before Zipkin. */
  public SpanLoss loss() {
    return loss;
  }

  public OpenTelemetry openTelemetry() {
    return sdk;
  }

  public Tracer tracer() {
    return sdk.getTracer("io.visualsearch." + service);
  }

  public TextMapPropagator propagator() {
    return sdk.getPropagators().getTextMapPropagator();
  }

  public String service() {
    return service;
  }

  /** Exports everything finished so far; used before a process exits and by tests. */
  public void flush() {
    sdk.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
  }

  @Override
  public String name() {
    return "tracing";
  }

  @Override
  public CheckResult check() {
    return CheckResult.OK;
  }

  @Override
  public void close() {
    sdk.getSdkTracerProvider().shutdown().join(10, TimeUnit.SECONDS);
    loss.close();
  }
}
