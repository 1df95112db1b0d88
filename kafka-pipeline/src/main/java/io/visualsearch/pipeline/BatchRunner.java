package io.visualsearch.pipeline;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.visualsearch.tracing.KafkaHeadersCarrier;
import io.visualsearch.tracing.Tracing;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import io.visualsearch.topics.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs one batch's records through the service's handler, each in its own CONSUMER span: one by
 * one, or on a worker pool with the records of one key chained; a poison record is dead-lettered,
 * a retriable failure reported back as the record to retry.
 *
 * <p>Threads: the consumer loop's handling thread (one batch at a time, while the poll thread
 * keeps polling) and, with concurrency, its worker threads. It touches no consumer; what it reads
 * of the loop's state ({@code running}, {@link PartitionOwnership#stillOwned},
 * {@link AckSettlement#handledAhead(RecordPosition)}) is volatile or concurrent.
 */
final class BatchRunner {

  private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);

  private final String service;
  private final RecordHandler handler;
  private final Tracing tracing;
  private final Activity activity;
  private final DeadLetters deadLetters;
  /** Whether the loop still takes records in: false once its stop began. */
  private final BooleanSupplier running;
  private final PartitionOwnership ownership;
  private final AckSettlement settlement;
  /**
   * Retriable failures in the batch round under way. Only the first is logged with its record:
   * while a dependency is down every record of a concurrent round fails alike, and a line each
   * was a hundred lines a round, every round of the outage, on every instance.
   */
  private final AtomicInteger retriedThisRound = new AtomicInteger();

  BatchRunner(String service, RecordHandler handler, Tracing tracing, Activity activity, BooleanSupplier running,
      PartitionOwnership ownership, AckSettlement settlement) {
    this.service = service;
    this.handler = handler;
    this.tracing = tracing;
    this.activity = activity;
    this.deadLetters = new DeadLetters(service);
    this.running = running;
    this.ownership = ownership;
    this.settlement = settlement;
  }

  /** Handles records one by one; returns the record to retry, if any. */
  ConsumerRecord<byte[], byte[]> processInOrder(ConsumerRecords<byte[], byte[]> records, Outbox outbox,
      Map<TopicPartition, OffsetAndMetadata> done) throws InterruptedException {
    retriedThisRound.set(0);
    for (TopicPartition tp : records.partitions()) {
      for (ConsumerRecord<byte[], byte[]> rec : records.records(tp)) {
        if (!running.getAsBoolean()) {
          return null;
        }
        if (!ownership.stillOwned(tp)) {
          break;
        }
        // A dead letter already written when an earlier round's other output was refused.
        if (!settlement.handledAhead(RecordPosition.of(rec)) && !process(rec, outbox)) {
          return rec;
        }
        done.put(tp, new OffsetAndMetadata(rec.offset() + 1));
      }
    }
    return null;
  }

  /**
   * Handles records on the worker pool, chaining records of the same key. Commits, per partition,
   * only the prefix of records that all succeeded; the rest are handled again after the backoff.
   */
  ConsumerRecord<byte[], byte[]> processConcurrently(ConsumerRecords<byte[], byte[]> records, Outbox outbox,
      Map<TopicPartition, OffsetAndMetadata> done, Set<ConsumerRecord<byte[], byte[]>> beyond,
      ExecutorService workers) throws InterruptedException {
    retriedThisRound.set(0);
    Map<String, CompletableFuture<Boolean>> lastByKey = new HashMap<>();
    Map<ConsumerRecord<byte[], byte[]>, CompletableFuture<Boolean>> results = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> rec : records) {
      String key = rec.key() == null ? "\u0000" + rec.partition() + "@" + rec.offset() : keyOf(rec);
      CompletableFuture<Boolean> previous = lastByKey.getOrDefault(key, CompletableFuture.completedFuture(true));
      boolean handledBefore = settlement.handledAhead(
          new RecordPosition(new TopicPartition(rec.topic(), rec.partition()), rec.offset()));
      TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
      CompletableFuture<Boolean> f = previous.handle((ok, err) -> ok != null && ok)
          .thenApplyAsync(previousOk -> running.getAsBoolean() && previousOk && ownership.stillOwned(tp)
              && (handledBefore || processUninterruptibly(rec, outbox)), workers);
      lastByKey.put(key, f);
      results.put(rec, f);
    }
    ConsumerRecord<byte[], byte[]> firstFailed = null;
    for (TopicPartition tp : records.partitions()) {
      boolean prefix = true;
      for (ConsumerRecord<byte[], byte[]> rec : records.records(tp)) {
        boolean ok;
        try {
          ok = results.get(rec).get();
        } catch (ExecutionException e) {
          // process() returns false for what a retry can mend; what leaves it (a dead letter the
          // producer refused at once, as one in a fatal state does) kills the loop as it does in
          // order, instead of being retried for ever behind a ready check.
          Throwable cause = e.getCause();
          if (cause instanceof Error fatal) {
            throw fatal;
          }
          throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        }
        if (ok && prefix) {
          done.put(tp, new OffsetAndMetadata(rec.offset() + 1));
        } else if (ok) {
          beyond.add(rec);
        } else if (prefix) {
          prefix = false;
          if (firstFailed == null && running.getAsBoolean() && !ownership.leftToNewOwner(tp)) {
            firstFailed = rec;
          }
        }
      }
    }
    int retried = retriedThisRound.get();
    if (retried > 1) {
      log.warn("{}: {} records of this batch failed retriably (the first logged above), retried after the back-off",
          service, retried);
    }
    return firstFailed;
  }

  private boolean processUninterruptibly(ConsumerRecord<byte[], byte[]> rec, Outbox outbox) {
    try {
      return process(rec, outbox);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Returns false when the record must be retried; poison records are dead-lettered (true). */
  private boolean process(ConsumerRecord<byte[], byte[]> rec, Outbox outbox) throws InterruptedException {
    Context parent = tracing.propagator().extract(Context.root(), rec.headers(), KafkaHeadersCarrier.GETTER);
    String tenant = PipelineHeaders.get(rec.headers(), PipelineHeaders.TENANT);
    Span span = tracing.tracer().spanBuilder(rec.topic() + " process")
        .setParent(parent)
        .setSpanKind(SpanKind.CONSUMER)
        .setAttribute("messaging.system", "kafka")
        .setAttribute("messaging.destination.name", rec.topic())
        .setAttribute("messaging.kafka.destination.partition", (long) rec.partition())
        .setAttribute("messaging.kafka.message.offset", rec.offset())
        .setAttribute("messaging.kafka.message.key", rec.key() == null ? "" : keyOf(rec))
        .setAttribute("tenant", tenant == null ? "" : tenant)
        .startSpan();
    long t0 = System.nanoTime();
    outbox.handling(RecordPosition.of(rec));
    try (Scope ignored = span.makeCurrent()) {
      MDC.put("trace_id", span.getSpanContext().getTraceId());
      try {
        handler.handle(rec, outbox);
        double seconds = (System.nanoTime() - t0) / 1e9;
        outbox.onAcknowledged(() -> activity.handled(rec.topic(), seconds));
        return true;
      } catch (InterruptedException e) {
        throw e;
      } catch (RetriableProcessingException e) {
        span.recordException(e);
        span.setStatus(StatusCode.ERROR, "retriable: " + e.getMessage());
        activity.retried(rec.topic());
        if (retriedThisRound.getAndIncrement() == 0) {
          log.warn("{}: will retry {}-{}@{}: {}", service, rec.topic(), rec.partition(), rec.offset(), e.getMessage());
        } else {
          log.debug("{}: will retry {}-{}@{}: {}", service, rec.topic(), rec.partition(), rec.offset(), e.getMessage());
        }
        return false;
      } catch (Exception e) {
        if (!(e instanceof PoisonRecordException) && (!running.getAsBoolean() || Thread.currentThread().isInterrupted())) {
          // A stop interrupts what it stops waiting for, and a handler cut off mid-way fails in
          // whatever way its library reports an interrupt: the record is not at fault, and is
          // handled again after the restart instead of dead-lettered.
          span.recordException(e);
          span.setStatus(StatusCode.ERROR, "stopping: " + e.getMessage());
          log.warn("{}: not dead-lettering {}-{}@{} while stopping: {}", service, rec.topic(), rec.partition(),
              rec.offset(), e.toString());
          return false;
        }
        String reason = DeadLetters.reasonOf(e);
        span.recordException(e);
        span.setStatus(StatusCode.ERROR, reason + ": " + e.getMessage());
        span.setAttribute("dlq.reason", reason);
        log.warn("{}: dead-lettering {}-{}@{} ({}): {}", service, rec.topic(), rec.partition(), rec.offset(),
            reason, e.getMessage());
        outbox.sendDeadLetter(deadLetters.topicFor(rec), rec.key(), rec.value(), deadLetters.headersFor(rec, e));
        String owner = tenantOf(rec);
        outbox.onAcknowledged(() -> activity.deadLettered(rec.topic(), reason, owner));
        return true;
      } catch (Error e) {
        // The loop dies of it (exit 4); the record's span must say which record and why.
        span.recordException(e);
        span.setStatus(StatusCode.ERROR, e.toString());
        throw e;
      }
    } finally {
      outbox.handled();
      MDC.remove("trace_id");
      span.end();
    }
  }

  private static String keyOf(ConsumerRecord<byte[], byte[]> rec) {
    return new String(rec.key(), StandardCharsets.UTF_8);
  }

  /** The record's tenant: its header's, else its key's tenant/ part; null when neither names one. */
  private static String tenantOf(ConsumerRecord<byte[], byte[]> rec) {
    String header = PipelineHeaders.get(rec.headers(), PipelineHeaders.TENANT);
    if (Topics.isTenant(header)) {
      return header;
    }
    return rec.key() == null ? null : Topics.tenantOf(new String(rec.key(), java.nio.charset.StandardCharsets.UTF_8));
  }
}
