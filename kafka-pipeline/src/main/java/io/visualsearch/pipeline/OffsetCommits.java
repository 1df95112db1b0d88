package io.visualsearch.pipeline;

import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer loop's commits of what a batch handled, and its rewinds to what it did not.
 *
 * <p>Threads: the poll thread alone (it owns the consumer), after a batch and in the rebalance
 * listener.
 */
final class OffsetCommits {

  private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);

  private final String service;
  /** The poll thread's consumer, made by {@link ConsumerLoop#start}. */
  private final Supplier<Consumer<byte[], byte[]>> consumer;

  OffsetCommits(String service, Supplier<Consumer<byte[], byte[]>> consumer) {
    this.service = service;
    this.consumer = consumer;
  }

  void commit(Map<TopicPartition, OffsetAndMetadata> done) {
    if (done.isEmpty()) {
      return;
    }
    try {
      consumer.get().commitSync(done);
    } catch (KafkaException e) {
      // Lost the partitions in a rebalance: the new owner handles these records again.
      log.warn("{}: commit failed, records will be redelivered: {}", service, e.getMessage());
    }
  }

  /** Seeks {@code partitions} of the batch still assigned back to their first record not committed. */
  void rewind(ConsumerRecords<byte[], byte[]> records, Map<TopicPartition, OffsetAndMetadata> done,
      Set<TopicPartition> partitions) {
    Consumer<byte[], byte[]> consumer = this.consumer.get();
    for (TopicPartition tp : partitions) {
      if (!consumer.assignment().contains(tp) || records.records(tp).isEmpty()) {
        continue;
      }
      OffsetAndMetadata d = done.get(tp);
      consumer.seek(tp, d != null ? d.offset() : records.records(tp).get(0).offset());
    }
  }
}
