package io.visualsearch.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class SpanLossTest {

  /** A Zipkin that answers each batch as {@code export} says. */
  static SpanExporter zipkin(Function<Collection<SpanData>, CompletableResultCode> export) {
    return new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        return export.apply(spans);
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
  }

  @Test
  void everyRecordedSpanIsEitherSentOrCountedAsLostWithItsReason() throws Exception {
    CountDownLatch exporting = new CountDownLatch(1);
    CountDownLatch zipkinBack = new CountDownLatch(1);
    AtomicInteger sent = new AtomicInteger();
    AtomicInteger calls = new AtomicInteger();
    // Zipkin hangs on the first batch and refuses it; it takes the later ones.
    SpanExporter zipkin = zipkin(spans -> {
      if (calls.getAndIncrement() == 0) {
        exporting.countDown();
        try {
          zipkinBack.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return CompletableResultCode.ofFailure();
      }
      sent.addAndGet(spans.size());
      return CompletableResultCode.ofSuccess();
    });
    Tracing tracing = Tracing.exporting("test", "test", 1.0, zipkin, Duration.ofMillis(10), 4);
    try {
      Tracer tracer = tracing.tracer();
      tracer.spanBuilder("first").startSpan().end();
      assertTrue(exporting.await(20, TimeUnit.SECONDS), "the first batch is being sent");
      for (int i = 0; i < 20; i++) {
        tracer.spanBuilder("more").startSpan().end();
      }
      long queueFull = tracing.loss().queueFull();
      assertTrue(queueFull >= 12, "a queue of 4 (at most 8 once rounded) took the rest: " + queueFull);
      zipkinBack.countDown();
      tracing.flush();
      assertEquals(1, tracing.loss().exportFailed(), "the refused batch");
      assertEquals(21, sent.get() + tracing.loss().exportFailed() + tracing.loss().queueFull(),
          "every span sent or counted lost");
    } finally {
      zipkinBack.countDown();
      tracing.close();
    }
  }

  @Test
  void nothingIsCountedWhenEverythingArrives() throws Exception {
    AtomicInteger sent = new AtomicInteger();
    SpanExporter zipkin = zipkin(spans -> {
      sent.addAndGet(spans.size());
      return CompletableResultCode.ofSuccess();
    });
    Tracing tracing = Tracing.withExporter("test", zipkin);
    try {
      for (int i = 0; i < 10; i++) {
        tracing.tracer().spanBuilder("s").startSpan().end();
      }
      tracing.flush();
      assertEquals(10, sent.get());
      assertEquals(0, tracing.loss().queueFull());
      assertEquals(0, tracing.loss().exportFailed());
    } finally {
      tracing.close();
    }
  }
}
