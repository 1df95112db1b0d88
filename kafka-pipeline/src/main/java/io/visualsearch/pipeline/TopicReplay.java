package io.visualsearch.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads every partition of a topic from the beginning up to the end offsets seen when it starts,
 * with the consumer's partitions assigned directly (no group membership, nothing committed): the
 * way to rebuild state from a compacted topic. Records written after the start are not handed on,
 * so the replay ends even while producers keep writing.
 */
public final class TopicReplay {

  private static final Duration POLL = Duration.ofMillis(200);

  private TopicReplay() {}

  /**
   * Hands each record below the start's end offsets to {@code each}, in offset order per partition.
   *
   * @return the end offsets the replay read up to
   * @throws IllegalStateException when the topic does not exist
   * @throws TimeoutException when the end offsets are not reached within {@code timeout}
   */
  public static Map<TopicPartition, Long> toEnd(org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
      String topic, Duration timeout, Consumer<ConsumerRecord<byte[], byte[]>> each) throws TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    return toEnd(consumer, partitions(consumer, topic, timeout), deadline, timeout, each);
  }

  /**
   * As {@link #toEnd(org.apache.kafka.clients.consumer.Consumer, String, Duration, Consumer)} for
   * some of a topic's partitions: state keyed like the topic (a key is always in one partition) can
   * be rebuilt a partition at a time, holding one partition's keys at once.
   */
  public static Map<TopicPartition, Long> toEnd(org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
      List<TopicPartition> partitions, Duration timeout, Consumer<ConsumerRecord<byte[], byte[]>> each)
      throws TimeoutException {
    return toEnd(consumer, partitions, System.nanoTime() + timeout.toNanos(), timeout, each);
  }

  /** The topic's partitions; {@link IllegalStateException} when it does not exist. */
  public static List<TopicPartition> partitions(org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
      String topic, Duration timeout) {
    List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
    if (infos == null || infos.isEmpty()) {
      throw new IllegalStateException("topic " + topic + " does not exist or has no partitions");
    }
    List<TopicPartition> partitions = new ArrayList<>();
    for (PartitionInfo p : infos) {
      partitions.add(new TopicPartition(topic, p.partition()));
    }
    return partitions;
  }

  private static Map<TopicPartition, Long> toEnd(org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
      List<TopicPartition> partitions, long deadline, Duration timeout, Consumer<ConsumerRecord<byte[], byte[]>> each)
      throws TimeoutException {
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, timeout);
    while (!reached(consumer, ends)) {
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("reading " + partitions + " did not reach the end offsets " + ends + " within "
            + timeout);
      }
      for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(POLL)) {
        if (rec.offset() < ends.get(new TopicPartition(rec.topic(), rec.partition()))) {
          each.accept(rec);
        }
      }
    }
    return ends;
  }

  private static boolean reached(org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
      Map<TopicPartition, Long> ends) {
    for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }
}
