package io.visualsearch.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PropagationTest {

  private static final String W3C_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String B3_TRACE = "80f198ee56343ba864fe8b2a57d3eff7";

  private final Tracing tracing = Tracing.withExporter("test", InMemorySpanExporter.create());

  @AfterEach
  void close() {
    tracing.close();
  }

  private SpanContext extracted(Headers headers) {
    return Span.fromContext(tracing.propagator().extract(Context.root(), headers, KafkaHeadersCarrier.GETTER))
        .getSpanContext();
  }

  private static String text(Headers headers, String key) {
    return headers.lastHeader(key) == null ? null : new String(headers.lastHeader(key).value(), StandardCharsets.UTF_8);
  }

  @Test
  void b3HeadersFromOlderCallersAreRead() {
    Headers headers = new RecordHeaders()
        .add("X-B3-TraceId", B3_TRACE.getBytes(StandardCharsets.UTF_8))
        .add("X-B3-SpanId", "e457b5a2e4d86bd1".getBytes(StandardCharsets.UTF_8))
        .add("X-B3-Sampled", "1".getBytes(StandardCharsets.UTF_8));
    SpanContext context = extracted(headers);
    assertTrue(context.isValid());
    assertEquals(B3_TRACE, context.getTraceId());
    assertEquals("e457b5a2e4d86bd1", context.getSpanId());
  }

  @Test
  void w3cWinsWhenACarrierHasBoth() {
    Headers headers = new RecordHeaders()
        .add("traceparent", ("00-" + W3C_TRACE + "-00f067aa0ba902b7-01").getBytes(StandardCharsets.UTF_8))
        .add("X-B3-TraceId", B3_TRACE.getBytes(StandardCharsets.UTF_8))
        .add("X-B3-SpanId", "e457b5a2e4d86bd1".getBytes(StandardCharsets.UTF_8));
    assertEquals(W3C_TRACE, extracted(headers).getTraceId());
  }

  @Test
  void onlyW3cIsWrittenAndAReinjectionReplacesTheParent() {
    Headers headers = new RecordHeaders();
    Span first = tracing.tracer().spanBuilder("first").startSpan();
    Span retry = tracing.tracer().spanBuilder("retry").startSpan();
    tracing.propagator().inject(Context.root().with(first), headers, KafkaHeadersCarrier.SETTER);
    tracing.propagator().inject(Context.root().with(retry), headers, KafkaHeadersCarrier.SETTER);
    first.end();
    retry.end();

    assertEquals(1, headers.toArray().length, "one traceparent header, no B3 and no second parent");
    assertTrue(text(headers, "traceparent").contains(retry.getSpanContext().getSpanId()));
    assertNull(headers.lastHeader("X-B3-TraceId"));
    assertEquals(retry.getSpanContext().getSpanId(), extracted(headers).getSpanId());
  }

  @Test
  void recordsWithoutContextStartNewTraces() {
    assertFalse(extracted(new RecordHeaders()).isValid());
    assertFalse(extracted(new RecordHeaders().add("traceparent", "not a trace".getBytes(StandardCharsets.UTF_8)))
        .isValid());
  }
}
