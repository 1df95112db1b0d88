package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.visualsearch.tracing.Tracing;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * The batcher with a plain Java computation standing in for TensorFlow (y = 2x per element, and a
 * row holding -1 is rejected): merging, per-request splitting, isolation of a bad request, limits.
 */
class DynamicBatcherTest {

  private static final BatchKey KEY = new BatchKey(null, null, List.of("y"),
      List.of(new BatchKey.InputLayout("x", DataType.DT_INT32, List.of(2L))), true);

  private final List<Long> runRows = new ArrayList<>();

  private Map<String, HostTensor> doubleIt(BatchKey key, Map<String, HostTensor> in) {
    HostTensor x = in.get("x");
    ByteBuffer src = ByteBuffer.wrap(x.data()).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer dst = ByteBuffer.allocate(x.data().length).order(ByteOrder.LITTLE_ENDIAN);
    while (src.hasRemaining()) {
      int v = src.getInt();
      if (v == -1) {
        throw ServingException.invalid("poison value");
      }
      dst.putInt(2 * v);
    }
    synchronized (runRows) {
      runRows.add(x.dim(0));
    }
    return Map.of("y", HostTensor.numeric(DataType.DT_INT32, x.shape(), dst.array()));
  }

  @Test
  void fullBatchesRunAsOneAndEveryRequestGetsItsOwnRows() throws Exception {
    // A timeout far beyond the test: batches can only start by filling up, so merging is certain.
    try (DynamicBatcher b = new DynamicBatcher(4, Duration.ofMinutes(5), 1, 100, false, this::doubleIt)) {
      b.start();
      List<CompletableFuture<Map<String, HostTensor>>> futures = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        futures.add(b.submit(KEY, Map.of("x", rows(1, 10 * i, 10 * i + 1)), 1));
      }
      for (int i = 0; i < 8; i++) {
        HostTensor y = futures.get(i).get(30, TimeUnit.SECONDS).get("y");
        assertArrayEquals(new long[] {1, 2}, y.shape());
        assertArrayEquals(ints(20 * i, 20 * i + 2), y.data());
      }
      assertEquals(List.of(4L, 4L), runRows);
      BatchStats stats = b.stats();
      assertEquals(List.of(2L, 8L, 8L, 0L), List.of(stats.runs(), stats.requests(), stats.rows(), stats.rejected()));
      assertEquals(4.0, stats.rowsPerRun());
      BatchStats none = b.stats().since(stats);
      assertEquals(List.of(0L, 0L, 0L), List.of(none.runs(), none.rows(), none.runNanos()));
    }
  }

  /**
   * A run merging an unsampled request (a generator at a low sample ratio) ahead of a sampled one
   * (a shopper's query) is recorded in the query's trace, linked to the other.
   */
  @Test
  void aMergedRunIsTracedUnderItsFirstSampledRequestNotItsOldest() throws Exception {
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    try (Tracing tracing = Tracing.withExporter("model-server", spans);
        DynamicBatcher b = new DynamicBatcher(2, Duration.ofMinutes(5), 1, 100, Long.MAX_VALUE, false,
            this::doubleIt, tracing.tracer(), DynamicBatcher.Observer.NONE)) {
      b.start();
      SpanContext unsampled = SpanContext.create("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331",
          TraceFlags.getDefault(), TraceState.getDefault());
      SpanContext sampled = SpanContext.create("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7",
          TraceFlags.getSampled(), TraceState.getDefault());
      CompletableFuture<Map<String, HostTensor>> first;
      try (Scope ignored = Context.root().with(Span.wrap(unsampled)).makeCurrent()) {
        first = b.submit(KEY, Map.of("x", rows(1, 1, 2)), 1);
      }
      CompletableFuture<Map<String, HostTensor>> second;
      try (Scope ignored = Context.root().with(Span.wrap(sampled)).makeCurrent()) {
        second = b.submit(KEY, Map.of("x", rows(1, 3, 4)), 1);
      }
      first.get(30, TimeUnit.SECONDS);
      second.get(30, TimeUnit.SECONDS);
      tracing.flush();
      SpanData run = spans.getFinishedSpanItems().stream().filter(s -> s.getName().startsWith("tensorflow.run"))
          .findFirst().orElseThrow(() -> new AssertionError("the run was not recorded: " + spans.getFinishedSpanItems()));
      assertEquals(sampled.getTraceId(), run.getTraceId());
      assertEquals(sampled.getSpanId(), run.getParentSpanId());
      assertEquals(List.of(unsampled.getSpanId()), run.getLinks().stream().map(l -> l.getSpanContext().getSpanId())
          .toList(), "linked to the request it is not the child of");
    }
  }

  @Test
  void aLoneRequestRunsWhenTheTimeoutExpires() throws Exception {
    try (DynamicBatcher b = new DynamicBatcher(32, Duration.ofMillis(2), 1, 100, false, this::doubleIt)) {
      b.start();
      HostTensor y = b.submit(KEY, Map.of("x", rows(2, 1, 2, 3, 4)), 2).get(30, TimeUnit.SECONDS).get("y");
      assertArrayEquals(ints(2, 4, 6, 8), y.data());
    }
  }

  @Test
  void aBadRequestFailsAloneNotItsBatchMates() throws Exception {
    try (DynamicBatcher b = new DynamicBatcher(3, Duration.ofMinutes(5), 1, 100, false, this::doubleIt)) {
      b.start();
      CompletableFuture<Map<String, HostTensor>> good1 = b.submit(KEY, Map.of("x", rows(1, 1, 1)), 1);
      CompletableFuture<Map<String, HostTensor>> bad = b.submit(KEY, Map.of("x", rows(1, -1, 0)), 1);
      CompletableFuture<Map<String, HostTensor>> good2 = b.submit(KEY, Map.of("x", rows(1, 3, 3)), 1);
      assertArrayEquals(ints(2, 2), good1.get(30, TimeUnit.SECONDS).get("y").data());
      assertArrayEquals(ints(6, 6), good2.get(30, TimeUnit.SECONDS).get("y").data());
      ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(30, TimeUnit.SECONDS));
      assertInstanceOf(ServingException.class, e.getCause());
    }
  }

  @Test
  void queuedInputBeyondTheByteBudgetIsRefusedWithUnavailable() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch running = new CountDownLatch(1);
    DynamicBatcher.Runner blocking = gated(running, release);
    // 20 bytes of queue: two one-row requests (8 bytes each) wait, a third does not fit. The
    // request count limit (100) is never reached: only the bytes refuse it.
    try (DynamicBatcher b = new DynamicBatcher(1, Duration.ZERO, 1, 100, 20, false, blocking,
        io.opentelemetry.api.OpenTelemetry.noop().getTracer("test"), DynamicBatcher.Observer.NONE)) {
      b.start();
      CompletableFuture<Map<String, HostTensor>> first = b.submit(KEY, Map.of("x", rows(1, 1, 1)), 1);
      assertTrue(running.await(30, TimeUnit.SECONDS), "the first request runs, out of the queue");
      CompletableFuture<Map<String, HostTensor>> second = b.submit(KEY, Map.of("x", rows(1, 2, 2)), 1);
      CompletableFuture<Map<String, HostTensor>> third = b.submit(KEY, Map.of("x", rows(1, 3, 3)), 1);
      ServingException refused = assertThrows(ServingException.class,
          () -> b.submit(KEY, Map.of("x", rows(1, 4, 4)), 1));
      assertEquals(ServingException.Reason.UNAVAILABLE, refused.reason());
      assertTrue(refused.getMessage().contains("MiB of requests are waiting"), refused.getMessage());
      release.countDown();
      for (CompletableFuture<Map<String, HostTensor>> f : List.of(first, second, third)) {
        f.get(30, TimeUnit.SECONDS);
      }
      // Their bytes were given back: the queue takes requests again.
      assertArrayEquals(ints(10, 10), b.submit(KEY, Map.of("x", rows(1, 5, 5)), 1).get(30, TimeUnit.SECONDS)
          .get("y").data());
    }
  }

  @Test
  void aFullQueueRefusesWithUnavailable() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    DynamicBatcher.Runner blocking = (k, in) -> {
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return doubleIt(k, in);
    };
    try (DynamicBatcher b = new DynamicBatcher(1, Duration.ZERO, 1, 2, false, blocking)) {
      b.start();
      List<CompletableFuture<Map<String, HostTensor>>> accepted = new ArrayList<>();
      ServingException refused = null;
      // The single thread blocks in the first run; the queue holds at most two more.
      for (int i = 0; i < 10 && refused == null; i++) {
        try {
          accepted.add(b.submit(KEY, Map.of("x", rows(1, i, i)), 1));
        } catch (ServingException e) {
          refused = e;
        }
      }
      assertTrue(refused != null, "the queue never filled");
      assertEquals(ServingException.Reason.UNAVAILABLE, refused.reason());
      assertTrue(accepted.size() >= 2 && accepted.size() <= 3, "accepted " + accepted.size());
      release.countDown();
      for (CompletableFuture<Map<String, HostTensor>> f : accepted) {
        f.get(30, TimeUnit.SECONDS);
      }
      assertEquals(1, b.stats().rejected());
    }
  }

  private static final BatchKey INTERACTIVE_KEY = new BatchKey(null, null, List.of("y"),
      List.of(new BatchKey.InputLayout("x", DataType.DT_INT32, List.of(2L))), true, true);

  @Test
  void aShoppersRequestRunsBeforeCatalogWorkQueuedAheadOfIt() throws Exception {
    CountDownLatch firstRunStarted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<Boolean> runs = java.util.Collections.synchronizedList(new ArrayList<>());
    DynamicBatcher.Runner recording = (k, in) -> {
      runs.add(k.interactive());
      return gated(firstRunStarted, release).run(k, in);
    };
    try (DynamicBatcher b = new DynamicBatcher(4, Duration.ZERO, 1, 100, false, recording)) {
      b.start();
      List<CompletableFuture<Map<String, HostTensor>>> all = new ArrayList<>();
      all.add(b.submit(KEY, Map.of("x", rows(1, 0, 0)), 1));
      assertTrue(firstRunStarted.await(30, TimeUnit.SECONDS));
      // A backfill: five batches of catalog work queued, then one shopper's query.
      for (int i = 0; i < 20; i++) {
        all.add(b.submit(KEY, Map.of("x", rows(1, i, i)), 1));
      }
      CompletableFuture<Map<String, HostTensor>> query = b.submit(INTERACTIVE_KEY, Map.of("x", rows(1, 7, 8)), 1);
      release.countDown();
      assertArrayEquals(ints(14, 16), query.get(30, TimeUnit.SECONDS).get("y").data());
      for (CompletableFuture<Map<String, HostTensor>> f : all) {
        f.get(30, TimeUnit.SECONDS);
      }
      assertEquals(List.of(false, true, false, false, false, false, false), runs,
          "the run in hand, then the query, then the catalog's five batches");
    }
  }

  @Test
  void aQuarterOfTheQueueIsKeptForShoppersRequests() throws Exception {
    CountDownLatch firstRunStarted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (DynamicBatcher b = new DynamicBatcher(1, Duration.ZERO, 1, 8, false, gated(firstRunStarted, release))) {
      b.start();
      List<CompletableFuture<Map<String, HostTensor>>> accepted = new ArrayList<>();
      accepted.add(b.submit(KEY, Map.of("x", rows(1, 0, 0)), 1));
      assertTrue(firstRunStarted.await(30, TimeUnit.SECONDS));
      int bulk = 0;
      try {
        while (bulk < 100) {
          accepted.add(b.submit(KEY, Map.of("x", rows(1, 1, 1)), 1));
          bulk++;
        }
      } catch (ServingException e) {
        assertEquals(ServingException.Reason.UNAVAILABLE, e.reason());
      }
      assertEquals(6, bulk, "catalog work may fill 6 of the 8 places");
      accepted.add(b.submit(INTERACTIVE_KEY, Map.of("x", rows(1, 2, 2)), 1));
      accepted.add(b.submit(INTERACTIVE_KEY, Map.of("x", rows(1, 3, 3)), 1));
      assertThrows(ServingException.class, () -> b.submit(INTERACTIVE_KEY, Map.of("x", rows(1, 4, 4)), 1),
          "past the whole queue, a query is refused too");
      release.countDown();
      for (CompletableFuture<Map<String, HostTensor>> f : accepted) {
        f.get(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void whenIdleALoneRequestRunsWithoutWaitingOutTheTimeout() throws Exception {
    // A five-minute window: only idle dispatch can answer within the test's 30 s.
    try (DynamicBatcher b = new DynamicBatcher(32, Duration.ofMinutes(5), 1, 100, true, this::doubleIt)) {
      b.start();
      HostTensor y = b.submit(KEY, Map.of("x", rows(1, 5, 6)), 1).get(30, TimeUnit.SECONDS).get("y");
      assertArrayEquals(ints(10, 12), y.data());
      assertEquals(List.of(1L), runRows);
    }
  }

  @Test
  void whenIdleRequestsArrivingDuringARunMergeIntoTheNext() throws Exception {
    CountDownLatch firstRunStarted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    DynamicBatcher.Runner gated = gated(firstRunStarted, release);
    try (DynamicBatcher b = new DynamicBatcher(32, Duration.ofMinutes(5), 1, 100, true, gated)) {
      b.start();
      CompletableFuture<Map<String, HostTensor>> first = b.submit(KEY, Map.of("x", rows(1, 1, 1)), 1);
      assertTrue(firstRunStarted.await(30, TimeUnit.SECONDS), "the idle batcher did not start the first run");
      List<CompletableFuture<Map<String, HostTensor>>> later = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        later.add(b.submit(KEY, Map.of("x", rows(1, i, i)), 1));
      }
      release.countDown();
      first.get(30, TimeUnit.SECONDS);
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(ints(2 * i, 2 * i), later.get(i).get(30, TimeUnit.SECONDS).get("y").data());
      }
      assertEquals(List.of(1L, 3L), runRows);
    }
  }

  @Test
  void requestsWhoseCallerHasGoneAreDroppedUnrunAndTheRestStillRun() throws Exception {
    CountDownLatch firstRunStarted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    DynamicBatcher.Runner gated = gated(firstRunStarted, release);
    try (DynamicBatcher b = new DynamicBatcher(32, Duration.ofMinutes(5), 1, 100, true, gated)) {
      b.start();
      CompletableFuture<Map<String, HostTensor>> first = b.submit(KEY, Map.of("x", rows(1, 1, 1)), 1);
      assertTrue(firstRunStarted.await(30, TimeUnit.SECONDS), "the idle batcher did not start the first run");
      // While the only batch thread is busy: one caller that will time out, one that waits.
      AtomicBoolean gone = new AtomicBoolean();
      CompletableFuture<Map<String, HostTensor>> abandoned = b.submit(KEY, Map.of("x", rows(1, 7, 7)), 1, gone::get);
      CompletableFuture<Map<String, HostTensor>> waiting = b.submit(KEY, Map.of("x", rows(1, 4, 5)), 1, () -> false);
      gone.set(true);
      release.countDown();

      first.get(30, TimeUnit.SECONDS);
      assertArrayEquals(ints(8, 10), waiting.get(30, TimeUnit.SECONDS).get("y").data());
      ExecutionException e = assertThrows(ExecutionException.class, () -> abandoned.get(30, TimeUnit.SECONDS));
      assertEquals(ServingException.Reason.CANCELLED, assertInstanceOf(ServingException.class, e.getCause()).reason());
      assertEquals(List.of(1L, 1L), runRows, "the abandoned request's row never reached TensorFlow");
      assertEquals(1, b.stats().abandoned());
      assertEquals(0, b.queued());
    }
  }

  @Test
  void aQueueOfOnlyAbandonedRequestsRunsNothingAndTheBatcherGoesOn() throws Exception {
    try (DynamicBatcher b = new DynamicBatcher(32, Duration.ofMillis(1), 1, 100, false, this::doubleIt)) {
      // Not started yet: the requests queue up, their callers leave, then the thread comes.
      List<CompletableFuture<Map<String, HostTensor>>> gone = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        gone.add(b.submit(KEY, Map.of("x", rows(1, i, i)), 1, () -> true));
      }
      b.start();
      for (CompletableFuture<Map<String, HostTensor>> f : gone) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        assertEquals(ServingException.Reason.CANCELLED, ((ServingException) e.getCause()).reason());
      }
      assertArrayEquals(ints(6, 6), b.submit(KEY, Map.of("x", rows(1, 3, 3)), 1).get(30, TimeUnit.SECONDS)
          .get("y").data());
      assertEquals(List.of(1L), runRows);
      assertEquals(3, b.stats().abandoned());
    }
  }

  /** doubleIt, each run first signalling {@code started} and then waiting for {@code release}. */
  private DynamicBatcher.Runner gated(CountDownLatch started, CountDownLatch release) {
    return (k, in) -> {
      started.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return doubleIt(k, in);
    };
  }

  private static HostTensor rows(long n, int... values) {
    return HostTensor.numeric(DataType.DT_INT32, new long[] {n, 2}, ints(values));
  }

  private static byte[] ints(int... values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      b.putInt(v);
    }
    return b.array();
  }
}
