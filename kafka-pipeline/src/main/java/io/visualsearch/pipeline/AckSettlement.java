package io.visualsearch.pipeline;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the consumer loop settles a batch once it has been handled: it waits for the broker's
 * acknowledgement of everything the batch produced, and, when some of it was not acknowledged,
 * commits what can be and remembers what must not be handled again ({@code handledAhead}).
 *
 * <p>Threads: the poll thread, after each batch and in the rebalance listener; the handling and
 * worker threads read {@link #handledAhead(RecordPosition)} while a batch runs (a concurrent
 * set); {@link #refusedSend} is volatile, read by {@link ConsumerLoop#check} on any thread.
 */
final class AckSettlement {

  private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);
  private static final Duration SEND_ACK_TIMEOUT = Duration.ofMinutes(2);

  private final String service;
  private final OffsetCommits offsets;
  /** Records handled (output acknowledged) beyond a failed one of their partition, until committed. */
  private final Set<RecordPosition> handledAhead = ConcurrentHashMap.newKeySet();
  /** Why the last batch's records were refused for good (too large, not authorised); null once one is acknowledged. */
  private volatile Throwable refusedSend;

  AckSettlement(String service, OffsetCommits offsets) {
    this.service = service;
    this.offsets = offsets;
  }

  /**
   * How a batch's sends ended: whether all were acknowledged; the input records with a send that
   * was not; those whose every send was their dead letter, acknowledged; and whether a send made
   * for no known record failed.
   */
  record Acks(boolean all, Set<RecordPosition> failed, Set<RecordPosition> onlyDeadLetters,
      boolean unattributedFailed) {}

  Acks awaitAcks(List<Outbox.Sent> sends) throws InterruptedException {
    long deadline = System.nanoTime() + SEND_ACK_TIMEOUT.toNanos();
    Set<RecordPosition> failed = new HashSet<>();
    Set<RecordPosition> withOtherOutput = new HashSet<>();
    Set<RecordPosition> deadLettered = new HashSet<>();
    boolean unattributedFailed = false;
    Throwable refused = null;
    String firstFailure = null;
    for (Outbox.Sent sent : sends) {
      if (sent.origin() != null) {
        (sent.deadLetter() ? deadLettered : withOtherOutput).add(sent.origin());
      }
      try {
        // Every send is waited for (none longer than the batch's limit in all), so each record's
        // outcome is known, not only the first failure's.
        sent.ack().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        continue;
      } catch (ExecutionException e) {
        // Retried like any failed batch, but no retry can succeed: the partitions stay where they
        // are, so this must show as not ready rather than as an ordinary back-off.
        if (refused == null && !(e.getCause() instanceof RetriableException)) {
          refused = e.getCause();
        }
        if (firstFailure == null) {
          firstFailure = "produced record not acknowledged: " + e.getMessage();
        }
      } catch (TimeoutException e) {
        if (firstFailure == null) {
          firstFailure = "produced record not acknowledged within " + SEND_ACK_TIMEOUT;
        }
      }
      if (sent.origin() == null) {
        unattributedFailed = true;
      } else {
        failed.add(sent.origin());
      }
    }
    if (firstFailure == null) {
      refusedSend = null;
      return new Acks(true, Set.of(), Set.of(), false);
    }
    log.warn("{}: {} ({} input records affected)", service, firstFailure, failed.size());
    refusedSend = refused;
    deadLettered.removeAll(withOtherOutput);
    deadLettered.removeAll(failed);
    return new Acks(false, failed, deadLettered, unattributedFailed);
  }

  /**
   * After some of a batch's output was not acknowledged: per partition, the handled records before
   * the first whose output failed are committed, and the rest is handled again (handlers are
   * idempotent), in order, so a key's later output never lands before its earlier one. A record
   * whose only output was its dead letter, acknowledged, is not handled again: each retry of the
   * batch wrote another copy of it. Sends made off the handling threads cannot be told apart: if
   * one of them failed, nothing is committed.
   */
  void settlePartly(ConsumerRecords<byte[], byte[]> records, Map<TopicPartition, OffsetAndMetadata> done,
      Set<ConsumerRecord<byte[], byte[]>> beyond, Set<TopicPartition> kept, Acks acks, Outbox outbox) {
    Map<TopicPartition, OffsetAndMetadata> committable = new HashMap<>();
    Set<RecordPosition> settled = new HashSet<>();
    if (!acks.unattributedFailed()) {
      Set<RecordPosition> handledBeyond = new HashSet<>();
      beyond.forEach(rec -> handledBeyond.add(RecordPosition.of(rec)));
      for (TopicPartition tp : kept) {
        OffsetAndMetadata handledUntil = done.get(tp);
        boolean prefix = true;
        for (ConsumerRecord<byte[], byte[]> rec : records.records(tp)) {
          RecordPosition p = RecordPosition.of(rec);
          boolean handled = handledUntil != null && rec.offset() < handledUntil.offset() || handledBeyond.contains(p);
          if (!handled) {
            prefix = false;
            continue;
          }
          if (prefix && !acks.failed().contains(p)) {
            committable.put(tp, new OffsetAndMetadata(rec.offset() + 1));
            settled.add(p);
            continue;
          }
          prefix = false;
          if (acks.onlyDeadLetters().contains(p)) {
            handledAhead.add(p);
            settled.add(p);
          }
        }
      }
    }
    outbox.acknowledged(p -> p != null && settled.contains(p));
    offsets.commit(committable);
    offsets.rewind(records, committable, kept);
  }

  /** Whether the record at {@code p} was handled, its output acknowledged, in an earlier round. */
  boolean handledAhead(RecordPosition p) {
    return handledAhead.contains(p);
  }

  /**
   * After a batch whose output was all acknowledged: {@code beyond}, handled past a failure of
   * their partition, are not to be handled again.
   */
  void rememberHandledAhead(Set<ConsumerRecord<byte[], byte[]>> beyond) {
    // Handled, and their records acknowledged, past a failure: not committable yet (offsets are a
    // prefix), but not to be handled again when the batch is retried, which would produce their
    // output twice.
    for (ConsumerRecord<byte[], byte[]> rec : beyond) {
      handledAhead.add(new RecordPosition(new TopicPartition(rec.topic(), rec.partition()), rec.offset()));
    }
  }

  /** Forgets what {@code done}, just committed, now covers. */
  void forgetCommitted(Map<TopicPartition, OffsetAndMetadata> done) {
    handledAhead.removeIf(p -> {
      OffsetAndMetadata committed = done.get(p.partition());
      return committed != null && p.offset() < committed.offset();
    });
  }

  /** Forgets what the rebalance listener finds is another member's to handle again. */
  void forgetHandledAhead(Predicate<RecordPosition> othersToHandle) {
    handledAhead.removeIf(othersToHandle);
  }

  /** Why the broker refuses, for good, a record the last batch produced; null once one is acknowledged. */
  Throwable refusedSend() {
    return refusedSend;
  }
}
