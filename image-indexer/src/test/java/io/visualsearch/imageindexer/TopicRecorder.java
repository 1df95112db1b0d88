package io.visualsearch.imageindexer;

import io.visualsearch.stack.EmbeddedStack;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads topics from the beginning on its own thread and keeps every record, and tells when a
 * consumer group has committed everything a topic holds: "nothing more will come" without sleeping.
 */
final class TopicRecorder implements AutoCloseable {

  private final List<ConsumerRecord<byte[], byte[]>> seen = new CopyOnWriteArrayList<>();
  private final Map<TopicPartition, Long> positions = new ConcurrentHashMap<>();
  private final Properties common = new Properties();
  private final Thread thread;
  private volatile boolean running = true;

  TopicRecorder(EmbeddedStack stack, List<String> topics) {
    common.put("bootstrap.servers", stack.kafkaBootstrapServers());
    Properties p = new Properties();
    p.putAll(common);
    p.put("group.id", "it-recorder-" + System.nanoTime());
    p.put("auto.offset.reset", "earliest");
    p.put("isolation.level", "read_committed");
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
    consumer.subscribe(topics);
    thread = new Thread(() -> {
      try (consumer) {
        while (running) {
          consumer.poll(Duration.ofMillis(100)).forEach(seen::add);
          for (TopicPartition tp : consumer.assignment()) {
            positions.put(tp, consumer.position(tp));
          }
        }
      }
    }, "it-topic-recorder");
    thread.start();
  }

  List<ConsumerRecord<byte[], byte[]>> records(String topic, String keyPrefix) {
    return seen.stream().filter(r -> r.topic().equals(topic))
        .filter(r -> r.key() != null && new String(r.key(), StandardCharsets.UTF_8).startsWith(keyPrefix)).toList();
  }

  List<ConsumerRecord<byte[], byte[]>> records(String topic, String keyPrefix, String exactKey) {
    return records(topic, keyPrefix).stream()
        .filter(r -> new String(r.key(), StandardCharsets.UTF_8).equals(exactKey)).toList();
  }

  /** True once {@code group} committed the end of {@code input} and this recorder read the end of {@code outputs}. */
  boolean drained(String group, String input, Set<String> outputs) throws Exception {
    try (Admin admin = Admin.create(common)) {
      Map<TopicPartition, Long> inputEnds = ends(admin, input);
      Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
          .partitionsToOffsetAndMetadata().get();
      for (var e : inputEnds.entrySet()) {
        OffsetAndMetadata c = committed.get(e.getKey());
        if (e.getValue() > 0 && (c == null || c.offset() < e.getValue())) {
          return false;
        }
      }
      for (String output : outputs) {
        for (var e : ends(admin, output).entrySet()) {
          if (positions.getOrDefault(e.getKey(), 0L) < e.getValue()) {
            return false;
          }
        }
      }
      return true;
    }
  }

  private static Map<TopicPartition, Long> ends(Admin admin, String topic) throws Exception {
    var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
    Map<TopicPartition, OffsetSpec> request = new java.util.HashMap<>();
    partitions.forEach(p -> request.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
    Map<TopicPartition, Long> out = new java.util.HashMap<>();
    admin.listOffsets(request).all().get().forEach((tp, info) -> out.put(tp, info.offset()));
    return out;
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join();
  }
}
