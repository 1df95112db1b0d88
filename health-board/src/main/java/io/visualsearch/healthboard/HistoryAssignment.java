package io.visualsearch.healthboard;

import io.visualsearch.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Assigns a consumer every partition of {@code service.health}, positioned at the first heartbeat
 * of the last hour, which is all the page shows, or after the last one already read when that is
 * later. Heartbeats are not read twice: the board takes a beat stamped ahead of its clock as
 * heard now, so a second reading of one would look new, and its totals would be booked again.
 */
final class HistoryAssignment {

  static final String TOPIC = Topics.SERVICE_HEALTH.name();
  static final Duration HISTORY = Duration.ofHours(1);
  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(10);

  private final Consumer<byte[], byte[]> consumer;
  private final Map<TopicPartition, Long> readUpTo;
  private final Set<TopicPartition> assigned = new HashSet<>();

  /** @param readUpTo per partition, the offset after the last heartbeat already read (by an earlier consumer) */
  HistoryAssignment(Consumer<byte[], byte[]> consumer, long nowMs, Map<TopicPartition, Long> readUpTo) {
    this.consumer = consumer;
    this.readUpTo = readUpTo;
    List<TopicPartition> all = topicPartitions();
    if (!all.isEmpty()) {
      assign(all, nowMs - HISTORY.toMillis());
    }
  }

  int partitions() {
    return assigned.size();
  }

  /**
   * Partitions added to the topic since: read from their start, since everything in a partition
   * that new is recent.
   */
  void addNewPartitions() {
    List<TopicPartition> fresh = new ArrayList<>(topicPartitions());
    fresh.removeAll(assigned);
    if (!fresh.isEmpty()) {
      assign(fresh, 0);
    }
  }

  private List<TopicPartition> topicPartitions() {
    List<PartitionInfo> infos = consumer.partitionsFor(TOPIC, METADATA_TIMEOUT);
    return infos == null ? List.of() : infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
  }

  private void assign(List<TopicPartition> added, long sinceMs) {
    assigned.addAll(added);
    consumer.assign(List.copyOf(assigned));
    Map<TopicPartition, Long> since = new HashMap<>();
    added.forEach(p -> since.put(p, sinceMs));
    Map<TopicPartition, OffsetAndTimestamp> offsets = consumer.offsetsForTimes(since, METADATA_TIMEOUT);
    for (TopicPartition p : added) {
      OffsetAndTimestamp o = offsets.get(p);
      if (o == null) {
        consumer.seekToEnd(List.of(p)); // nothing that recent: only heartbeats from now on matter
      } else {
        consumer.seek(p, Math.max(o.offset(), readUpTo.getOrDefault(p, 0L)));
      }
    }
  }
}
