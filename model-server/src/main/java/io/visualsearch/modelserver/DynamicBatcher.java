package io.visualsearch.modelserver;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges concurrent requests that share a {@link BatchKey} into one TensorFlow run, in the manner
 * of TensorFlow Serving's shared batch scheduler: one queue per key, a fixed pool of threads that
 * run whichever queue is ready first. A queue is ready when it holds {@code maxBatchSize} rows or
 * its oldest request has waited {@code batchTimeout}, or, when {@code dispatchWhenIdle}, as soon as
 * no TensorFlow run is executing: waiting then only adds latency, because nothing else is using the
 * cores, and under load the requests that arrive while a run executes still merge into the next
 * one. The pool size also bounds how many TensorFlow runs execute at once; {@code
 * maxQueuedRequests} and {@code maxQueuedBytes} (the requests' input bytes) bound memory under
 * overload: a count alone let thirty 64 MiB requests fill a 2 GiB heap. A merged batch takes
 * requests up to {@link #MAX_MERGED_BYTES} of input, so merging never copies more than that. A
 * request whose caller has gone (its deadline passed while it queued) is dropped when its batch is
 * formed instead of run: under overload the queue holds many of those, and running them would
 * spend the cores on answers nobody reads while the callers still waiting time out in turn.
 *
 * <p>Tracing: each TensorFlow run is one span, a child of the oldest request's span (so a single
 * request's trace shows its run) with links to every other request it served; each request's own
 * span gets a {@code batched} event naming the run, its size and the time spent queueing. Requests
 * keep the trace context current at {@link #submit} time.
 */
public final class DynamicBatcher implements Component {

  /** Runs one (possibly merged) set of inputs on a version; see {@link ServableVersion#run}. */
  @FunctionalInterface
  interface Runner {
    Map<String, HostTensor> run(BatchKey key, Map<String, HostTensor> inputs);
  }

  /** Told about every request that leaves the queue and every TensorFlow run, for metrics. */
  interface Observer {
    Observer NONE = new Observer() {
      @Override
      public void waited(long queueNanos) {}

      @Override
      public void ran(String signature, int requests, long rows, long runNanos, boolean ok) {}
    };

    void waited(long queueNanos);

    void ran(String signature, int requests, long rows, long runNanos, boolean ok);
  }

  private static final AttributeKey<Long> BATCH_ROWS = AttributeKey.longKey("batch.rows");
  private static final AttributeKey<Long> BATCH_REQUESTS = AttributeKey.longKey("batch.requests");
  private static final AttributeKey<Double> QUEUE_WAIT_MS = AttributeKey.doubleKey("batch.queue_wait_ms");
  private static final AttributeKey<String> RUN_SPAN = AttributeKey.stringKey("batch.run_span_id");

  private static final Logger log = LoggerFactory.getLogger(DynamicBatcher.class);
  /** Input bytes one merged run may copy together (well below the 2 GiB a Java array holds). */
  static final long MAX_MERGED_BYTES = 256L << 20;

  private final int maxBatchSize;
  private final long timeoutNanos;
  private final int threads;
  private final int maxQueuedRequests;
  private final long maxQueuedBytes;
  private final boolean dispatchWhenIdle;
  private final Runner runner;
  private final Tracer tracer;
  private final Observer observer;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Map<BatchKey, Queue> queues = new LinkedHashMap<>();
  private final List<Thread> workers = new ArrayList<>();
  private final AtomicLong runs = new AtomicLong();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong rows = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong abandoned = new AtomicLong();
  private final AtomicLong runNanos = new AtomicLong();
  private int queued;
  /** Input bytes of the queued requests. Guarded by {@link #lock}. */
  private long queuedBytes;
  /** TensorFlow runs executing now. Guarded by {@link #lock}. */
  private int running;
  private boolean closed;

  DynamicBatcher(int maxBatchSize, Duration batchTimeout, int threads, int maxQueuedRequests,
      boolean dispatchWhenIdle, Runner runner) {
    this(maxBatchSize, batchTimeout, threads, maxQueuedRequests, Long.MAX_VALUE, dispatchWhenIdle, runner,
        OpenTelemetry.noop().getTracer("model-server"), Observer.NONE);
  }

  DynamicBatcher(int maxBatchSize, Duration batchTimeout, int threads, int maxQueuedRequests, long maxQueuedBytes,
      boolean dispatchWhenIdle, Runner runner, Tracer tracer, Observer observer) {
    this.maxBatchSize = maxBatchSize;
    this.timeoutNanos = batchTimeout.toNanos();
    this.threads = threads;
    this.maxQueuedRequests = maxQueuedRequests;
    this.maxQueuedBytes = maxQueuedBytes;
    this.dispatchWhenIdle = dispatchWhenIdle;
    this.runner = runner;
    this.tracer = tracer;
    this.observer = observer;
  }

  @Override
  public String name() {
    return "batcher";
  }

  @Override
  public void start() {
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(this::work, "model-batch-" + i);
      t.setDaemon(true);
      workers.add(t);
      t.start();
    }
  }

  @Override
  public CheckResult check() {
    for (Thread t : workers) {
      if (!t.isAlive()) {
        return CheckResult.failed("batch thread " + t.getName() + " died");
      }
    }
    return workers.isEmpty() ? CheckResult.failed("not started") : CheckResult.OK;
  }

  public BatchStats stats() {
    return new BatchStats(runs.get(), requests.get(), rows.get(), rejected.get(), abandoned.get(), runNanos.get());
  }

  /** Requests waiting for a batch right now. */
  public int queued() {
    lock.lock();
    try {
      return queued;
    } finally {
      lock.unlock();
    }
  }

  /** Queues a request of {@code rowCount} rows; the future completes with its own outputs. */
  CompletableFuture<Map<String, HostTensor>> submit(BatchKey key, Map<String, HostTensor> inputs, long rowCount) {
    return submit(key, inputs, rowCount, () -> false);
  }

  /**
   * The same, for a caller that can go away: when {@code callerGone} is true by the time the
   * request's batch is formed, the request is not run and its future fails with {@code CANCELLED}.
   */
  CompletableFuture<Map<String, HostTensor>> submit(BatchKey key, Map<String, HostTensor> inputs, long rowCount,
      BooleanSupplier callerGone) {
    Task task = new Task(inputs, rowCount, System.nanoTime(), Context.current(), callerGone);
    lock.lock();
    try {
      if (closed) {
        throw ServingException.unavailable("the model server is shutting down");
      }
      // A quarter of the queue is kept for interactive requests: a backfill's catalog work would
      // otherwise fill it and turn every shopper's search away as overloaded.
      if (queued >= (key.interactive() ? maxQueuedRequests : maxQueuedRequests - maxQueuedRequests / 4)) {
        rejected.incrementAndGet();
        throw ServingException.unavailable("the model server is overloaded: " + queued
            + " requests are waiting for a batch; retry later");
      }
      // One request larger than the whole budget still runs when nothing else waits.
      if (queued > 0 && queuedBytes + task.bytes > maxQueuedBytes) {
        rejected.incrementAndGet();
        throw ServingException.unavailable("the model server is overloaded: " + queuedBytes / (1024 * 1024)
            + " MiB of requests are waiting for a batch; retry later");
      }
      queues.computeIfAbsent(key, k -> new Queue()).add(task);
      queued++;
      queuedBytes += task.bytes;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    return task.result;
  }

  private void work() {
    while (true) {
      BatchKey key;
      List<Task> batch;
      List<Task> gone = new ArrayList<>();
      lock.lock();
      try {
        while (true) {
          if (closed) {
            return;
          }
          long now = System.nanoTime();
          boolean idle = dispatchWhenIdle && running == 0;
          Map.Entry<BatchKey, Queue> ready = null;
          long nextDeadline = Long.MAX_VALUE;
          for (Map.Entry<BatchKey, Queue> e : queues.entrySet()) {
            Queue q = e.getValue();
            long deadline = q.oldestNanos() + timeoutNanos;
            boolean isReady = idle || !e.getKey().mergeable() || q.rows >= maxBatchSize || now - deadline >= 0;
            // Interactive queues first, then the oldest: a shopper's query does not wait behind a
            // backfill's queued images, only behind the runs already executing.
            boolean first = ready == null || e.getKey().interactive() && !ready.getKey().interactive()
                || e.getKey().interactive() == ready.getKey().interactive()
                && q.oldestNanos() - ready.getValue().oldestNanos() < 0;
            if (isReady && first) {
              ready = e;
            } else if (!isReady && deadline - now < nextDeadline) {
              nextDeadline = deadline - now;
            }
          }
          if (ready != null) {
            key = ready.getKey();
            batch = ready.getValue().take(key.mergeable() ? maxBatchSize : 1, MAX_MERGED_BYTES, gone);
            if (ready.getValue().isEmpty()) {
              queues.remove(key);
            }
            queued -= batch.size() + gone.size();
            queuedBytes -= bytesOf(batch) + bytesOf(gone);
            if (batch.isEmpty()) {
              break; // every request taken had been given up: nothing to run
            }
            running++;
            if (!queues.isEmpty()) {
              changed.signal(); // another queue may be ready for another idle thread
            }
            break;
          }
          try {
            if (nextDeadline == Long.MAX_VALUE) {
              changed.await();
            } else {
              changed.awaitNanos(nextDeadline);
            }
          } catch (InterruptedException e) {
            return;
          }
        }
      } finally {
        lock.unlock();
      }
      dropGone(gone);
      if (batch.isEmpty()) {
        continue;
      }
      try {
        execute(key, batch);
      } finally {
        lock.lock();
        try {
          running--;
          // Waiters parked on a batch deadline may now be idle-ready.
          changed.signalAll();
        } finally {
          lock.unlock();
        }
      }
    }
  }

  private static long bytesOf(List<Task> tasks) {
    long n = 0;
    for (Task t : tasks) {
      n += t.bytes;
    }
    return n;
  }

  private void dropGone(List<Task> gone) {
    if (gone.isEmpty()) {
      return;
    }
    abandoned.addAndGet(gone.size());
    long now = System.nanoTime();
    for (Task t : gone) {
      observer.waited(now - t.enqueuedNanos);
      t.result.completeExceptionally(ServingException.cancelled("the caller gave up after "
          + (now - t.enqueuedNanos) / 1_000_000 + " ms in the queue; the request was not run"));
    }
  }

  private void execute(BatchKey key, List<Task> batch) {
    long now = System.nanoTime();
    batch.forEach(t -> observer.waited(now - t.enqueuedNanos));
    try {
      if (batch.size() == 1) {
        runAlone(key, batch.get(0));
        return;
      }
      Map<String, HostTensor> merged = new LinkedHashMap<>();
      for (String alias : batch.get(0).inputs.keySet()) {
        merged.put(alias, TensorRows.concat(batch.stream().map(t -> t.inputs.get(alias)).toList()));
      }
      long total = batch.stream().mapToLong(t -> t.rows).sum();
      Map<String, HostTensor> out;
      try {
        out = tracedRun(key, batch, merged, total);
      } catch (RuntimeException e) {
        // One bad request must not fail its batch-mates: rerun each alone to find the culprit.
        log.debug("merged run of {} requests failed ({}), rerunning one by one", batch.size(), e.getMessage());
        batch.forEach(t -> runAlone(key, t));
        return;
      }
      if (!out.values().stream().allMatch(t -> t.rank() >= 1 && t.dim(0) == total)) {
        // The graph did not keep rows aligned with its inputs despite a free batch dimension.
        batch.forEach(t -> runAlone(key, t));
        return;
      }
      count(batch.size(), total);
      long offset = 0;
      for (Task t : batch) {
        Map<String, HostTensor> own = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : out.entrySet()) {
          own.put(e.getKey(), TensorRows.slice(e.getValue(), offset, t.rows));
        }
        offset += t.rows;
        t.result.complete(own);
      }
    } catch (RuntimeException | Error e) {
      for (Task t : batch) {
        t.result.completeExceptionally(e);
      }
    }
  }

  private void runAlone(BatchKey key, Task t) {
    try {
      Map<String, HostTensor> out = tracedRun(key, List.of(t), t.inputs, t.rows);
      count(1, t.rows);
      t.result.complete(out);
    } catch (RuntimeException e) {
      t.result.completeExceptionally(e);
    }
  }

  /**
   * One TensorFlow run as a span (child of the oldest sampled request, linked to the others) and
   * one metrics observation; every served request's span is told which run served it. The oldest
   * sampled one, not the oldest: a run under an unsampled generator request was recorded nowhere,
   * and the sampled search queries merged into it lost their model time.
   */
  private Map<String, HostTensor> tracedRun(BatchKey key, List<Task> batch, Map<String, HostTensor> inputs,
      long rowCount) {
    String signature = key.signatureName();
    Task parent = batch.stream().filter(t -> Span.fromContext(t.context).getSpanContext().isSampled()).findFirst()
        .orElse(batch.get(0));
    SpanBuilder builder = tracer.spanBuilder("tensorflow.run " + signature)
        .setParent(parent.context)
        .setSpanKind(SpanKind.INTERNAL)
        .setAttribute("model.signature", signature)
        .setAttribute(BATCH_ROWS, rowCount)
        .setAttribute(BATCH_REQUESTS, (long) batch.size())
        .setAttribute("batch.priority", key.interactive() ? "interactive" : "bulk");
    if (key.version() != null) {
      builder.setAttribute("model.name", key.version().modelName()).setAttribute("model.version", key.version().version());
    }
    for (Task t : batch) {
      SpanContext linked = Span.fromContext(t.context).getSpanContext();
      if (t != parent && linked.isValid()) {
        builder.addLink(linked);
      }
    }
    Span span = builder.startSpan();
    long start = System.nanoTime();
    boolean ok = false;
    try (Scope ignored = span.makeCurrent()) {
      Map<String, HostTensor> out = runner.run(key, inputs);
      ok = true;
      return out;
    } catch (RuntimeException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
      throw e;
    } finally {
      long end = System.nanoTime();
      runNanos.addAndGet(end - start);
      span.end();
      observer.ran(signature, batch.size(), rowCount, end - start, ok);
      String runSpanId = span.getSpanContext().getSpanId();
      for (Task t : batch) {
        Span.fromContext(t.context).addEvent("batched", Attributes.of(
            BATCH_ROWS, rowCount, BATCH_REQUESTS, (long) batch.size(),
            QUEUE_WAIT_MS, (start - t.enqueuedNanos) / 1e6, RUN_SPAN, runSpanId));
      }
    }
  }

  private void count(int requestCount, long rowCount) {
    runs.incrementAndGet();
    requests.addAndGet(requestCount);
    rows.addAndGet(rowCount);
  }

  /** Stops the threads after the batches they are running; queued requests fail UNAVAILABLE. */
  @Override
  public void close() {
    List<Task> abandoned = new ArrayList<>();
    lock.lock();
    try {
      closed = true;
      queues.values().forEach(q -> abandoned.addAll(q.tasks));
      queues.clear();
      queued = 0;
      queuedBytes = 0;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    for (Thread t : workers) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    ServingException shutdown = ServingException.unavailable("the model server is shutting down");
    abandoned.forEach(t -> t.result.completeExceptionally(shutdown));
  }

  private static final class Task {
    final Map<String, HostTensor> inputs;
    final long rows;
    final long enqueuedNanos;
    /** The submitter's trace context: the request's span parents or links its TensorFlow run. */
    final Context context;
    final BooleanSupplier callerGone;
    final CompletableFuture<Map<String, HostTensor>> result = new CompletableFuture<>();
    /** Input bytes held while queued (numeric data, or string elements). */
    final long bytes;

    Task(Map<String, HostTensor> inputs, long rows, long enqueuedNanos, Context context, BooleanSupplier callerGone) {
      this.inputs = inputs;
      this.rows = rows;
      this.bytes = inputs.values().stream().mapToLong(HostTensor::byteSize).sum();
      this.enqueuedNanos = enqueuedNanos;
      this.context = context;
      this.callerGone = callerGone;
    }
  }

  /** Requests waiting under one key, oldest first. Guarded by the batcher's lock. */
  private static final class Queue {
    final ArrayDeque<Task> tasks = new ArrayDeque<>();
    long rows;

    void add(Task t) {
      tasks.add(t);
      rows += t.rows;
    }

    long oldestNanos() {
      return tasks.peekFirst().enqueuedNanos;
    }

    boolean isEmpty() {
      return tasks.isEmpty();
    }

    /**
     * The oldest requests up to {@code maxRows} rows and {@code maxBytes} of input, always at least
     * one even if larger, unless every request looked at was given up by its caller; those are
     * moved to {@code gone}.
     */
    List<Task> take(long maxRows, long maxBytes, List<Task> gone) {
      List<Task> out = new ArrayList<>();
      long taken = 0;
      long takenBytes = 0;
      Iterator<Task> it = tasks.iterator();
      while (it.hasNext()) {
        Task t = it.next();
        if (t.callerGone.getAsBoolean()) {
          gone.add(t);
          rows -= t.rows;
          it.remove();
          continue;
        }
        if (!out.isEmpty() && (taken + t.rows > maxRows || takenBytes + t.bytes > maxBytes)) {
          break;
        }
        out.add(t);
        taken += t.rows;
        takenBytes += t.bytes;
        it.remove();
      }
      rows -= taken;
      return out;
    }
  }
}
