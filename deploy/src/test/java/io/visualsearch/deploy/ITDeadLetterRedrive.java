package io.visualsearch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.stack.EmbeddedKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./visual-search redrive} against a real broker: dead letters of the chosen reason go back
 * to their topic as their producer wrote them, once, and a run after new dead letters sends only
 * those; a dry run sends nothing.
 */
class ITDeadLetterRedrive {

  static final String TOPIC = "catalog.products";
  static final String DLQ = TOPIC + ".dlq";

  @TempDir Path dir;
  EmbeddedKafka kafka;
  KafkaProducer<byte[], byte[]> producer;

  @BeforeEach
  void start() throws Exception {
    kafka = SingleBroker.start(dir);
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    try (Admin admin = Admin.create(p)) {
      admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1), new NewTopic(DLQ, 1, (short) 1)))
          .all().get(30, TimeUnit.SECONDS);
    }
    producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  @AfterEach
  void stop() {
    if (producer != null) {
      producer.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void deadLettersOfAReasonGoBackToTheirTopicOnceWithTheirOwnHeaders() throws Exception {
    failed("p-0", "image-host-unavailable");
    failed("p-1", "malformed-payload");
    failed("p-2", "image-host-unavailable");
    deadLetter("x-3", "images.ready", 0, "image-host-unavailable"); // not a dead letter of catalog.products
    failed("p-5", "image-host-unavailable");
    failed("p-6", "image-host-unavailable");
    // Since they were dead-lettered: p-5 removed from the feed (a tombstone), p-6 changed again.
    producer.send(new ProducerRecord<>(TOPIC, 0, "p-5".getBytes(StandardCharsets.UTF_8), null)).get();
    producer.send(new ProducerRecord<>(TOPIC, 0, "p-6".getBytes(StandardCharsets.UTF_8),
        "newer value of p-6".getBytes(StandardCharsets.UTF_8))).get();
    Map<String, String> env = Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    String[] hostUnavailable = {DLQ, "--reason=image-host-unavailable"};

    assertEquals(0, DeadLetterRedriveMain.run(new String[] {DLQ, "--reason=image-host-unavailable", "--dry-run"}, env));
    assertEquals(7, read(TOPIC, 7).size(), "a dry run sends nothing");

    assertEquals(0, DeadLetterRedriveMain.run(hostUnavailable, env));
    // p-5 and p-6 stay as the feed left them: their letters would bring back what it replaced.
    List<ConsumerRecord<byte[], byte[]>> sent = read(TOPIC, 9).subList(7, 9);
    assertEquals(List.of("p-0", "p-2"), sent.stream().map(r -> str(r.key())).toList());
    for (ConsumerRecord<byte[], byte[]> r : sent) {
      assertEquals("value of " + str(r.key()), str(r.value()));
      assertEquals("acme", str(r.headers().lastHeader(PipelineHeaders.TENANT).value()), "the producer's own header");
      assertNull(r.headers().lastHeader(PipelineHeaders.DLQ_REASON), "no dead-letter header goes back");
      assertNull(r.headers().lastHeader(PipelineHeaders.DLQ_ORIGIN_TOPIC));
    }
    assertEquals(DLQ + "-0@0", str(sent.get(0).headers().lastHeader(DeadLetterRedrive.REDRIVEN_FROM).value()));

    // Run again: nothing new. A dead letter written since: only it. Without a filter: the other
    // reason's letter, not the letters already sent back, whose records are now their keys' latest.
    assertEquals(0, DeadLetterRedriveMain.run(hostUnavailable, env));
    assertEquals(9, read(TOPIC, 9).size());
    failed("p-4", "image-host-unavailable");
    assertEquals(0, DeadLetterRedriveMain.run(hostUnavailable, env));
    assertEquals(0, DeadLetterRedriveMain.run(new String[] {DLQ}, env));
    assertEquals(List.of("p-0", "p-1", "p-2", "p-5", "p-6", "p-5", "p-6", "p-0", "p-2", "p-4", "p-4", "p-1"),
        read(TOPIC, 12).stream().map(r -> str(r.key())).toList());

    // A letter whose record is no longer at its offset: compaction removed it, which it does only once
    // a later record of its key replaced it (and that one, a tombstone, may be gone by now too).
    // Offset 0 holds p-0's record: as far as p-7 goes, its own was compacted away.
    deadLetter("p-7", TOPIC, 0, "image-host-unavailable");
    assertEquals(0, DeadLetterRedriveMain.run(hostUnavailable, env));
    assertEquals(12, read(TOPIC, 12).size(), "a product compaction removed is not brought back");

    assertEquals(2, DeadLetterRedriveMain.run(new String[] {TOPIC}, env), "not a dead-letter topic");
    assertEquals(2, DeadLetterRedriveMain.run(new String[] {DLQ, "--everything"}, env));
    assertEquals(2, DeadLetterRedriveMain.run(new String[] {DLQ}, Map.of()), "no Kafka configured");
  }

  /** A record of catalog.products that its consumer then dead-lettered with {@code reason}. */
  private void failed(String key, String reason) throws Exception {
    RecordHeaders h = new RecordHeaders();
    h.add(PipelineHeaders.TENANT, "acme".getBytes(StandardCharsets.UTF_8));
    long offset = producer.send(new ProducerRecord<>(TOPIC, 0, key.getBytes(StandardCharsets.UTF_8),
        ("value of " + key).getBytes(StandardCharsets.UTF_8), h)).get(30, TimeUnit.SECONDS).offset();
    deadLetter(key, TOPIC, offset, reason);
  }

  private void deadLetter(String key, String origin, long originOffset, String reason) throws Exception {
    RecordHeaders h = new RecordHeaders();
    h.add(PipelineHeaders.TENANT, "acme".getBytes(StandardCharsets.UTF_8));
    h.add(PipelineHeaders.DLQ_ORIGIN_TOPIC, origin.getBytes(StandardCharsets.UTF_8));
    h.add(PipelineHeaders.DLQ_ORIGIN_PARTITION, "0".getBytes(StandardCharsets.UTF_8));
    h.add(PipelineHeaders.DLQ_ORIGIN_OFFSET, Long.toString(originOffset).getBytes(StandardCharsets.UTF_8));
    h.add(PipelineHeaders.DLQ_REASON, reason.getBytes(StandardCharsets.UTF_8));
    producer.send(new ProducerRecord<>(DLQ, null, key.getBytes(StandardCharsets.UTF_8),
        ("value of " + key).getBytes(StandardCharsets.UTF_8), h)).get(30, TimeUnit.SECONDS);
  }

  /** The topic's records, once it holds {@code expected} (or after a short wait when it should hold none). */
  private List<ConsumerRecord<byte[], byte[]>> read(String topic, int expected) {
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
      long until = System.nanoTime() + Duration.ofSeconds(expected == 0 ? 2 : 30).toNanos();
      while (System.nanoTime() < until && (expected == 0 || out.size() < expected)) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      // Whatever else arrives within a moment would be a duplicate.
      c.poll(Duration.ofMillis(500)).forEach(out::add);
      return out;
    }
  }

  private static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
