package io.visualsearch.evaluation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * The latest value of every key of a compacted topic whose key starts with a prefix, read from the
 * beginning up to the end offsets seen at the start (a consistent snapshot; later writes are not
 * waited for). A null value (tombstone) removes the key. Assigns partitions itself: no group
 * membership, nothing committed.
 */
final class LatestRecords {

  private LatestRecords() {}

  static Map<String, byte[]> read(Consumer<byte[], byte[]> consumer, String topic, String keyPrefix, Duration timeout)
      throws IOException {
    List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
    if (infos == null || infos.isEmpty()) {
      throw new IOException("topic " + topic + " does not exist");
    }
    List<TopicPartition> partitions = new ArrayList<>();
    infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
    Map<String, byte[]> latest = new HashMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!reached(consumer, end)) {
      if (System.nanoTime() > deadline) {
        throw new IOException("reading " + topic + " to its end took longer than " + timeout);
      }
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
        if (record.key() == null) {
          continue;
        }
        String key = new String(record.key(), StandardCharsets.UTF_8);
        if (!key.startsWith(keyPrefix)) {
          continue;
        }
        if (record.value() == null) {
          latest.remove(key);
        } else {
          latest.put(key, record.value());
        }
      }
    }
    return latest;
  }

  private static boolean reached(Consumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }
}
