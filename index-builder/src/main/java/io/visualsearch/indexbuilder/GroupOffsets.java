package io.visualsearch.indexbuilder;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * What the builder's consumer group has committed on the embeddings topic, per partition: where
 * the loop resumes a partition it is handed. Read with a consumer of the group that never
 * subscribes, so it never joins the group or moves its partitions.
 */
final class GroupOffsets {

  /** A lookup, not a replay: an answer this late means the broker is in trouble anyway. */
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final Supplier<Consumer<byte[], byte[]>> groupConsumers;
  private final String topic;

  GroupOffsets(Supplier<Consumer<byte[], byte[]>> groupConsumers, String topic) {
    this.groupConsumers = groupConsumers;
    this.topic = topic;
  }

  /** Partitions without a commit are left out. Throws what Kafka throws when it cannot answer. */
  Map<Integer, Long> committed() {
    try (Consumer<byte[], byte[]> consumer = groupConsumers.get()) {
      List<PartitionInfo> partitions = consumer.partitionsFor(topic, TIMEOUT);
      Set<TopicPartition> tps = partitions == null ? Set.of()
          : partitions.stream().map(p -> new TopicPartition(topic, p.partition())).collect(Collectors.toSet());
      Map<Integer, Long> out = new TreeMap<>();
      for (Map.Entry<TopicPartition, OffsetAndMetadata> e : consumer.committed(tps, TIMEOUT).entrySet()) {
        if (e.getValue() != null) {
          out.put(e.getKey().partition(), e.getValue().offset());
        }
      }
      return out;
    }
  }
}
