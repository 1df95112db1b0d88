package io.visualsearch.pipeline;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which partitions the consumer loop owns, across rebalances, and what that means for the batch
 * in hand: partitions taken while it was handled are left to their new owner (not committed, their
 * unstarted records not started), one handed straight back is resumed after what the batch
 * handled, and the rebalance listener that keeps all of it, and pauses partitions assigned during
 * a backoff or a long batch.
 *
 * <p>Threads: the rebalance listener runs on the poll thread (inside its polls, the keep-alive
 * polls of a long batch included), and so does everything else here, except
 * {@link #stillOwned} and {@link #leftToNewOwner}, called on the handling and worker threads
 * (hence the concurrent {@code revokedMidBatch} and {@code leftToNewOwner}, and the volatile
 * {@code handlingLong}), and {@link #assignedOnce}, {@link #describe} and {@link #sharesItsGroup},
 * called on any thread (hence the volatile {@code owned} and {@code partitionsOfTopics}).
 */
final class PartitionOwnership {

  private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);

  private final String service;
  private final List<String> topics;
  /** The poll thread's consumer, made by {@link ConsumerLoop#start}. */
  private final Supplier<Consumer<byte[], byte[]>> consumer;
  private final OffsetCommits offsets;
  private final AckSettlement settlement;
  private final RetryBackoff backoff;

  /** Whether the batch in hand outlasted a keep-alive: the poll thread polls, serving rebalances, while it runs. */
  private volatile boolean handlingLong;
  /**
   * Partitions taken from this member while a batch was handled, with the group generation they
   * were taken in. The group coordinator checks a commit's generation, not who owns the partition:
   * committing the batch's offsets for them could move their new owner's committed offset back
   * (its records replayed later) or past what it has handled. Their new owner handles those
   * records again. One given back later than straight back stays here, and is not this batch's:
   * the member that had it meanwhile handled and committed records after the batch's. Read by
   * {@link #stillOwned} on the handling threads.
   */
  private final Map<TopicPartition, Integer> revokedMidBatch = new ConcurrentHashMap<>();
  /**
   * Partitions revoked since the last assignment, with the generation they were taken in: the
   * next assignment tells whether another member had them meanwhile. Touched on the poll thread only.
   */
  private final Map<TopicPartition, Integer> revokedSinceAssignment = new HashMap<>();
  /**
   * What the last batch handled, acknowledged and could not commit, of partitions revoked during it
   * and not yet assigned again when it ended, with the generation they were taken in: given back
   * in the very next generation, nobody else owned them meanwhile, so those offsets are committed
   * then instead of the whole batch being handled again (a similar-items job of minutes). Any
   * other assignment drops them. Touched on the poll thread only.
   */
  private final Map<TopicPartition, HandledBeforeRevocation> awaitingHandback = new HashMap<>();
  /** Whether a rebalance revoked anything while the batch in hand was handled. */
  private boolean rebalancedMidBatch;
  /**
   * Partitions of the batch in hand whose remaining records were not started because the
   * partition was taken meanwhile: the new owner handles them, and output produced here after
   * its own would overwrite newer records of the same keys in compacted topics.
   */
  private final Set<TopicPartition> leftToNewOwner = ConcurrentHashMap.newKeySet();
  /** What this member owns now, and how many partitions its topics have; read from other threads. */
  private volatile Set<TopicPartition> owned = Set.of();
  private volatile int partitionsOfTopics;

  PartitionOwnership(String service, List<String> topics, Supplier<Consumer<byte[], byte[]>> consumer,
      OffsetCommits offsets, AckSettlement settlement, RetryBackoff backoff) {
    this.service = service;
    this.topics = topics;
    this.consumer = consumer;
    this.offsets = offsets;
    this.settlement = settlement;
    this.backoff = backoff;
  }

  /** The listener to subscribe with. */
  ConsumerRebalanceListener listener() {
    return new PauseNewPartitionsWhileBackingOff();
  }

  /** A batch is about to be handled: nothing was taken from it yet, nor left to another member. */
  void batchBegins() {
    revokedMidBatch.clear();
    rebalancedMidBatch = false;
    leftToNewOwner.clear();
    awaitingHandback.clear();
  }

  /** The batch in hand outlasted a keep-alive: from now on, rebalances are served while it runs. */
  void longBatchBegins() {
    handlingLong = true;
  }

  void longBatchEnds() {
    handlingLong = false;
  }

  /**
   * The partitions taken while the batch that just ended was handled, and not handed straight
   * back, with the generation they were taken in; forgotten here.
   */
  Map<TopicPartition, Integer> takeRevokedMidBatch() {
    Map<TopicPartition, Integer> lostIn = new HashMap<>(revokedMidBatch);
    revokedMidBatch.clear();
    return lostIn;
  }

  /**
   * What the batch that just ended handled of partitions it lost ({@code lostDone}), taken in the
   * generations of {@code lostIn}: committed if the next generation gives them back.
   */
  void awaitHandback(Map<TopicPartition, OffsetAndMetadata> lostDone, Map<TopicPartition, Integer> lostIn) {
    lostDone.forEach((tp, offset) -> awaitingHandback.put(tp, new HandledBeforeRevocation(lostIn.get(tp), offset)));
  }

  /**
   * After the batch's commit of {@code done}: partitions of it taken and handed straight back
   * resume after what was committed, and those of {@code kept} it had left unstarted are rewound.
   */
  void resumeIfHandedBack(ConsumerRecords<byte[], byte[]> records, Map<TopicPartition, OffsetAndMetadata> done,
      Set<TopicPartition> kept) {
    if (rebalancedMidBatch) {
      resumeAfter(done);
      // Taken and handed straight back: what was left unstarted is this member's again.
      leftToNewOwner.retainAll(kept);
      offsets.rewind(records, done, leftToNewOwner);
    }
  }

  /**
   * A partition revoked and handed straight back mid-batch (an eager rebalance revokes them all)
   * restarts at the offset committed before the batch: it resumes after what was just committed,
   * instead of handling the whole batch, a similar-items job of minutes, again.
   */
  private void resumeAfter(Map<TopicPartition, OffsetAndMetadata> done) {
    Consumer<byte[], byte[]> consumer = this.consumer.get();
    // Paused since it came back, a partition cannot be past its batch's end: the seek needs no
    // position(), which blocks on the coordinator for a partition just assigned and, when that
    // times out (a broker restarting during the rebalance), killed the poll thread.
    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : done.entrySet()) {
      if (consumer.assignment().contains(e.getKey())) {
        consumer.seek(e.getKey(), e.getValue().offset());
      }
    }
  }

  /**
   * Whether a record of {@code tp} may still be started: not once a rebalance took the partition
   * (the keep-alive polls serve rebalances while the batch is handled), unless handed straight
   * back. A record already running then runs to its end; only a transactional producer could
   * fence its output.
   */
  boolean stillOwned(TopicPartition tp) {
    if (!handlingLong || (owned.contains(tp) && !revokedMidBatch.containsKey(tp))) {
      return true;
    }
    leftToNewOwner.add(tp);
    return false;
  }

  /** Whether records of {@code tp} in the batch in hand were left unstarted to its new owner. */
  boolean leftToNewOwner(TopicPartition tp) {
    return leftToNewOwner.contains(tp);
  }

  /** See {@link ConsumerLoop#assignedOnce}. */
  boolean assignedOnce() {
    return partitionsOfTopics > 0;
  }

  /** See {@link ConsumerLoop#ownership}. */
  String describe() {
    return owned.size() + " of " + partitionsOfTopics;
  }

  /** See {@link ConsumerLoop#sharesItsGroup}. */
  boolean sharesItsGroup() {
    int total = partitionsOfTopics;
    return total > 0 && owned.size() < total;
  }

  private final class PauseNewPartitionsWhileBackingOff implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      Set<TopicPartition> keep = new HashSet<>(owned);
      keep.removeAll(partitions);
      owned = Set.copyOf(keep);
      int generation = consumer.get().groupMetadata().generationId();
      partitions.forEach(tp -> revokedSinceAssignment.put(tp, generation));
      if (handlingLong) {
        rebalancedMidBatch = true;
        // The first taking counts: given back later than straight back, another member had it.
        partitions.forEach(tp -> revokedMidBatch.putIfAbsent(tp, generation));
      }
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      Consumer<byte[], byte[]> consumer = PartitionOwnership.this.consumer.get();
      // Given straight back by the rebalance that took it (an eager rebalance revokes everything):
      // taken in generation g and assigned in g + 1, nobody else owned it meanwhile, so the
      // batch's offsets are still this member's to commit.
      int generation = consumer.groupMetadata().generationId();
      partitions.forEach(tp -> revokedMidBatch.remove(tp, generation - 1));
      // Offsets are committed synchronously after every batch. What was handled beyond a failure
      // is the next owner's to handle again, as it never saw it; given straight back, it is not.
      settlement.forgetHandledAhead(p -> {
        Integer taken = revokedSinceAssignment.get(p.partition());
        return taken != null && !(partitions.contains(p.partition()) && taken == generation - 1);
      });
      revokedSinceAssignment.clear();
      // Given back only after the batch that handled them ended: commit what it handled there.
      Map<TopicPartition, OffsetAndMetadata> handedBack = new HashMap<>();
      for (TopicPartition tp : partitions) {
        HandledBeforeRevocation h = awaitingHandback.get(tp);
        if (h != null && h.generation() == generation - 1) {
          handedBack.put(tp, h.offset());
        }
      }
      awaitingHandback.clear();
      if (!handedBack.isEmpty()) {
        offsets.commit(handedBack);
        handedBack.forEach(consumer::seek);
        log.info("{}: {} handed back after their batch ended; resuming after what it handled", service,
            handedBack.keySet());
      }
      if (backoff.paused() || handlingLong) {
        consumer.pause(partitions);
      }
      int total = 0;
      for (String topic : topics) {
        List<PartitionInfo> info = consumer.partitionsFor(topic);
        total += info == null ? 0 : info.size();
      }
      partitionsOfTopics = total;
      owned = Set.copyOf(consumer.assignment());
    }
  }

  /** Offsets handled in a batch of a partition revoked in {@code generation} while it ran. */
  private record HandledBeforeRevocation(int generation, OffsetAndMetadata offset) {}
}
