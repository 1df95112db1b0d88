package io.visualsearch.responseconsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.proto.events.Embedding;
import io.visualsearch.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The embeddings replay's selection and its give-up rule, against Kafka's in-memory consumer. */
class TenantVectorReaderTest {

  static final String TOPIC = Topics.EMBEDDINGS.name();
  static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
  static final Predicate<Embedding> VERSION_1 = e -> e.getModelVersion() == 1;

  static MockConsumer<byte[], byte[]> topicWithEnd(long end) {
    MockConsumer<byte[], byte[]> c = new MockConsumer<>("earliest");
    Node n = new Node(0, "localhost", 9092);
    c.updatePartitions(TOPIC, List.of(new PartitionInfo(TOPIC, 0, n, new Node[] {n}, new Node[] {n})));
    c.updateBeginningOffsets(Map.of(P0, 0L));
    c.updateEndOffsets(Map.of(P0, end));
    return c;
  }

  static ConsumerRecord<byte[], byte[]> embedding(long offset, String tenant, String sku, long modelVersion, float x) {
    byte[] value = Embedding.newBuilder().setTenant(tenant).setSku(sku).setModelVersion(modelVersion)
        .addVector(x).addVector(-x).build().toByteArray();
    return new ConsumerRecord<>(TOPIC, 0, offset, (tenant + "/" + sku).getBytes(StandardCharsets.UTF_8), value);
  }

  static ConsumerRecord<byte[], byte[]> tombstone(long offset, String tenant, String sku) {
    return new ConsumerRecord<>(TOPIC, 0, offset, (tenant + "/" + sku).getBytes(StandardCharsets.UTF_8), null);
  }

  @Test
  void keepsTheTenantsLatestVectorOfTheIndexedModelVersionUpToTheManifestOffsets() {
    MockConsumer<byte[], byte[]> c = topicWithEnd(8);
    c.schedulePollTask(() -> {
      c.addRecord(embedding(0, "shop", "a", 1, 1f));
      c.addRecord(embedding(1, "shop-two", "b", 1, 2f)); // another tenant, whose name starts alike
      c.addRecord(embedding(2, "shop", "a", 1, 3f)); // a newer vector of the same product
      c.addRecord(embedding(3, "shop", "c", 2, 4f)); // another model version
      c.addRecord(embedding(4, "shop", "d", 1, 5f));
      c.addRecord(tombstone(5, "shop", "d")); // removed before the index was built
      c.addRecord(new ConsumerRecord<>(TOPIC, 0, 6, "shop/e".getBytes(StandardCharsets.UTF_8),
          "not protobuf".getBytes(StandardCharsets.UTF_8)));
      c.addRecord(embedding(7, "shop", "f", 1, 6f)); // after the manifest's offset: not in this index
    });
    Map<String, float[]> got = new TenantVectorReader(() -> c).read("shop", VERSION_1, Map.of(0, 7L));
    assertEquals(Set.of("a"), got.keySet());
    assertArrayEquals(new float[] {3f, -3f}, got.get("a"));
    assertTrue(c.closed(), "the replay's consumer is closed");
  }

  /**
   * Records the index-builder dead-letters leave the product's previous vector, as in the index: a
   * NaN taken in would give the product garbage neighbours and rank it first in every list.
   */
  @Test
  void recordsNoIndexTakesLeaveTheProductsPreviousVector() {
    MockConsumer<byte[], byte[]> c = topicWithEnd(5);
    byte[] key = "shop/a".getBytes(StandardCharsets.UTF_8);
    c.schedulePollTask(() -> {
      c.addRecord(embedding(0, "shop", "a", 1, 1f));
      c.addRecord(embedding(1, "shop", "a", 1, Float.NaN));
      c.addRecord(embedding(2, "shop", "a", 1, 0f));
      c.addRecord(new ConsumerRecord<>(TOPIC, 0, 3, key, embedding(3, "elsewhere", "a", 1, 7f).value()));
      c.addRecord(new ConsumerRecord<>(TOPIC, 0, 4, key, embedding(4, "shop", "b", 1, 8f).value()));
    });
    Map<String, float[]> got = new TenantVectorReader(() -> c).read("shop", VERSION_1, Map.of(0, 5L));
    assertEquals(Set.of("a"), got.keySet());
    assertArrayEquals(new float[] {1f, -1f}, got.get("a"));
  }

  @Test
  void onlyEmbeddingsTheIndexsModelAcceptsAreRead() {
    MockConsumer<byte[], byte[]> c = topicWithEnd(2);
    c.schedulePollTask(() -> {
      c.addRecord(embedding(0, "shop", "old-layer", 1, 1f));
      c.addRecord(new ConsumerRecord<>(TOPIC, 0, 1, "shop/new-layer".getBytes(StandardCharsets.UTF_8),
          Embedding.newBuilder().setTenant("shop").setSku("new-layer").setModelVersion(1).setSignature("mixed7")
              .addVector(2f).addVector(-2f).build().toByteArray()));
    });
    Map<String, float[]> got = new TenantVectorReader(() -> c).read("shop",
        e -> e.getModelVersion() == 1 && !e.getSignature().equals("mixed7"), Map.of(0, 2L));
    assertEquals(Set.of("old-layer"), got.keySet());
  }

  @Test
  void productsTheCallerDoesNotWantAreNotHeld() {
    MockConsumer<byte[], byte[]> c = topicWithEnd(2);
    c.schedulePollTask(() -> {
      c.addRecord(embedding(0, "shop", "indexed", 1, 1f));
      c.addRecord(embedding(1, "shop", "not-indexed", 1, 2f));
    });
    Map<String, float[]> got = new TenantVectorReader(() -> c).read("shop", VERSION_1, Map.of(0, 2L), "indexed"::equals);
    assertEquals(Set.of("indexed"), got.keySet());
  }

  @Test
  @Timeout(30) // without the give-up rule the replay polls for ever
  void aReplayThatReadsNothingForTheStallTimeGivesUpWithARetriableError() {
    MockConsumer<byte[], byte[]> c = topicWithEnd(3);
    // The first record arrives, then nothing more: a broker gone away in the middle of the replay.
    c.schedulePollTask(() -> c.addRecord(embedding(0, "shop", "a", 1, 1f)));
    TenantVectorReader reader = new TenantVectorReader(() -> c, Duration.ofMillis(300));
    TenantVectorReader.ReplayStalledException e = assertThrows(TenantVectorReader.ReplayStalledException.class,
        () -> reader.read("shop", VERSION_1, Map.of(0, 3L)));
    assertTrue(e.getMessage().contains("no progress for PT0.3S"), e.getMessage());
    assertTrue(c.closed());
  }

  @Test
  void partitionsTheManifestDoesNotCoverAreNotRead() {
    MockConsumer<byte[], byte[]> c = topicWithEnd(3);
    assertEquals(Map.of(), new TenantVectorReader(() -> c, Duration.ofMillis(300)).read("shop", VERSION_1, Map.of()));
    assertEquals(Set.of(), c.assignment());
  }
}
