package io.visualsearch.searchapi.fresh;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.proto.events.Embedding;
import io.visualsearch.proto.events.IndexPublished;
import io.visualsearch.proto.events.Product;
import io.visualsearch.proto.events.ProductUpsert;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.topics.Topics;
import io.visualsearch.tracing.Tracing;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The follower against Kafka's MockConsumer: how it dies, and when it counts as caught up. */
class FreshnessFollowerTest {

  static final TopicPartition EMBEDDINGS_0 = new TopicPartition(Topics.EMBEDDINGS.name(), 0);
  static final TopicPartition EMBEDDINGS_1 = new TopicPartition(Topics.EMBEDDINGS.name(), 1);

  final CatalogView catalog = new CatalogView();
  final TenantDeltas deltas = new TenantDeltas();
  final List<LoadedIndex> served = new ArrayList<>();
  final CompletableFuture<Throwable> died = new CompletableFuture<>();
  final InMemorySpanExporter spans = InMemorySpanExporter.create();
  final Tracing tracing = Tracing.withExporter("search-api", spans);
  final List<String> published = new java.util.concurrent.CopyOnWriteArrayList<>();
  FreshnessFollower follower;

  FreshnessFollower start(MockConsumer<byte[], byte[]> consumer) {
    follower = new FreshnessFollower(() -> consumer, catalog, deltas, () -> List.copyOf(served),
        (tenant, context) -> published.add(tenant + " " + Span.fromContext(context).getSpanContext().getTraceId()),
        died::complete, new PrometheusRegistry(), tracing, FreshnessFollower.OtherModelRecords.WAIT_FOR_INDEX);
    follower.start();
    return follower;
  }

  @AfterEach
  void stop() {
    if (follower != null) {
      follower.close();
    }
    tracing.close();
  }

  /** acme's version v1 (model 1, 2-d) built up to {@code embeddingsOffsets}, served and adopted by its delta. */
  LoadedIndex serving(Map<Integer, Long> embeddingsOffsets) {
    LoadedIndex index = ShardlessVersions.of("acme", "v1", 1, 2, embeddingsOffsets);
    served.add(index);
    deltas.rebase(index);
    return index;
  }

  /** A consumer that knows the three followed topics, one empty partition each. */
  static MockConsumer<byte[], byte[]> consumerWithTopics() {
    MockConsumer<byte[], byte[]> c = new MockConsumer<>("earliest");
    for (io.visualsearch.topics.Topic t : List.of(Topics.CATALOG_PRODUCTS, Topics.EMBEDDINGS, Topics.INDEX_PUBLISHED)) {
      c.updatePartitions(t.name(), List.of(new PartitionInfo(t.name(), 0, Node.noNode(), new Node[0], new Node[0])));
      TopicPartition tp = new TopicPartition(t.name(), 0);
      c.updateBeginningOffsets(Map.of(tp, 0L));
      c.updateEndOffsets(Map.of(tp, 0L));
    }
    return c;
  }

  /** The same, with a second, empty embeddings partition. */
  static MockConsumer<byte[], byte[]> consumerWithTwoEmbeddingsPartitions() {
    MockConsumer<byte[], byte[]> c = consumerWithTopics();
    c.updatePartitions(Topics.EMBEDDINGS.name(), List.of(
        new PartitionInfo(Topics.EMBEDDINGS.name(), 0, Node.noNode(), new Node[0], new Node[0]),
        new PartitionInfo(Topics.EMBEDDINGS.name(), 1, Node.noNode(), new Node[0], new Node[0])));
    c.updateBeginningOffsets(Map.of(EMBEDDINGS_1, 0L));
    c.updateEndOffsets(Map.of(EMBEDDINGS_1, 0L));
    return c;
  }

  @Test
  void aFollowerThatCannotSetUpItsConsumerReportsItsDeathSoTheServiceStops() throws Exception {
    // No topics known: partitionsFor answers nothing, as before the topics are created.
    start(new MockConsumer<>("earliest"));
    Throwable cause = died.get(30, TimeUnit.SECONDS);
    assertTrue(cause.getMessage().contains(Topics.CATALOG_PRODUCTS.name()), cause.getMessage());
    assertFalse(follower.check().ok());
  }

  @Test
  void closingTheFollowerIsNotADeath() throws Exception {
    start(consumerWithTopics());
    await().atMost(Duration.ofSeconds(30)).until(() -> follower.check().ok());
    follower.close();
    assertNull(died.getNow(null), "a stop must not end the service as failed");
  }

  @Test
  void anInstanceIsNotReadyUntilItHasReplayedTheEmbeddingsItsIndexesDoNotCover() {
    serving(Map.of(0, 0L));
    MockConsumer<byte[], byte[]> consumer = consumerWithTopics();
    consumer.updateEndOffsets(Map.of(EMBEDDINGS_0, 1L));
    start(consumer);

    await().atMost(Duration.ofSeconds(30)).until(catalog::caughtUp);
    CheckResult replaying = follower.check();
    assertFalse(replaying.ok(), "an embeddings backlog means stale vectors would be served");
    assertTrue(replaying.detail().contains(Topics.EMBEDDINGS.name()), replaying.detail());

    consumer.schedulePollTask(() -> consumer.addRecord(new ConsumerRecord<>(Topics.EMBEDDINGS.name(), 0, 0L,
        "acme/sku-1".getBytes(StandardCharsets.UTF_8), embedding("acme", "sku-1").toByteArray())));
    await().atMost(Duration.ofSeconds(30)).until(() -> follower.check().ok());
    assertEquals(1, deltas.of("acme").size());
  }

  @Test
  void aPartitionTheServedManifestDoesNotNameIsReadFromItsStart() {
    // Built when partition 1 had no record yet: the manifest names partition 0 only.
    serving(Map.of(0, 5L));
    MockConsumer<byte[], byte[]> consumer = consumerWithTwoEmbeddingsPartitions();
    consumer.updateEndOffsets(Map.of(EMBEDDINGS_0, 5L, EMBEDDINGS_1, 1L));
    // A product added after that build, before this instance (re)started.
    consumer.schedulePollTask(() -> consumer.addRecord(new ConsumerRecord<>(Topics.EMBEDDINGS.name(), 1, 0L,
        "acme/sku-new".getBytes(StandardCharsets.UTF_8), embedding("acme", "sku-new").toByteArray())));
    start(consumer);

    await().atMost(Duration.ofSeconds(30)).until(() -> follower.check().ok());
    assertEquals(1, deltas.of("acme").size(), "the new product is searchable on this instance too");
  }

  /**
   * Records the index-builder dead-letters (a NaN, a zero vector, a payload naming another tenant or
   * product than the key) leave the product's previous vector in the delta, as in the index: a NaN
   * taken in would rank first in every answer.
   */
  @Test
  void recordsNoIndexTakesLeaveTheProductsPreviousVector() {
    LoadedIndex index = serving(Map.of(0, 0L));
    MockConsumer<byte[], byte[]> consumer = consumerWithTopics();
    List<Embedding> refused = List.of(
        embedding("acme", "sku-1").toBuilder().setVector(1, Float.NaN).build(),
        embedding("acme", "sku-1").toBuilder().setVector(0, 0f).build(),
        embedding("other", "sku-1").toBuilder().setVector(0, 0f).setVector(1, 1f).build(),
        embedding("acme", "sku-2").toBuilder().setVector(0, 0f).setVector(1, 1f).build());
    consumer.updateEndOffsets(Map.of(EMBEDDINGS_0, 1L + refused.size()));
    byte[] key = "acme/sku-1".getBytes(StandardCharsets.UTF_8);
    consumer.schedulePollTask(() -> {
      consumer.addRecord(new ConsumerRecord<>(Topics.EMBEDDINGS.name(), 0, 0L, key,
          embedding("acme", "sku-1").toByteArray()));
      for (int i = 0; i < refused.size(); i++) {
        consumer.addRecord(new ConsumerRecord<>(Topics.EMBEDDINGS.name(), 0, 1L + i, key, refused.get(i).toByteArray()));
      }
    });
    start(consumer);

    await().atMost(Duration.ofSeconds(30)).until(() -> follower.check().ok());
    FreshDelta.Snapshot s = deltas.of("acme").snapshot(index);
    assertEquals(List.of("sku-1"), s.searchable().stream().map(DeltaEntry::sku).toList());
    assertArrayEquals(new float[] {1, 0}, s.vectorOf("sku-1"));
  }

  /**
   * Partitions added to the topics while the instance runs: products now hash to them, and one
   * never read would count as gone from the feed, its new vector never searched.
   */
  @Test
  void partitionsAddedWhileRunningAreFollowedFromTheirStart() {
    serving(Map.of(0, 0L));
    MockConsumer<byte[], byte[]> consumer = consumerWithTopics();
    follower = new FreshnessFollower(() -> consumer, catalog, deltas, () -> List.copyOf(served), (t, c) -> { },
        died::complete, new PrometheusRegistry(), tracing, FreshnessFollower.OtherModelRecords.WAIT_FOR_INDEX);
    follower.checkPartitionsEvery(Duration.ofMillis(50));
    follower.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> follower.check().ok());

    TopicPartition catalog1 = new TopicPartition(Topics.CATALOG_PRODUCTS.name(), 1);
    consumer.schedulePollTask(() -> {
      consumer.updatePartitions(Topics.CATALOG_PRODUCTS.name(), List.of(
          new PartitionInfo(Topics.CATALOG_PRODUCTS.name(), 0, Node.noNode(), new Node[0], new Node[0]),
          new PartitionInfo(Topics.CATALOG_PRODUCTS.name(), 1, Node.noNode(), new Node[0], new Node[0])));
      consumer.updatePartitions(Topics.EMBEDDINGS.name(), List.of(
          new PartitionInfo(Topics.EMBEDDINGS.name(), 0, Node.noNode(), new Node[0], new Node[0]),
          new PartitionInfo(Topics.EMBEDDINGS.name(), 1, Node.noNode(), new Node[0], new Node[0])));
      consumer.updateBeginningOffsets(Map.of(catalog1, 0L, EMBEDDINGS_1, 0L));
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> consumer.assignment().containsAll(List.of(catalog1,
        EMBEDDINGS_1)));
    consumer.schedulePollTask(() -> {
      consumer.addRecord(new ConsumerRecord<>(Topics.CATALOG_PRODUCTS.name(), 1, 0L,
          "acme/sku-moved".getBytes(StandardCharsets.UTF_8), ProductUpsert.newBuilder().setTenant("acme")
              .setProduct(Product.newBuilder().setId("sku-moved").setTitle("moved")).build().toByteArray()));
      consumer.addRecord(new ConsumerRecord<>(Topics.EMBEDDINGS.name(), 1, 0L,
          "acme/sku-moved".getBytes(StandardCharsets.UTF_8), embedding("acme", "sku-moved").toByteArray()));
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> deltas.of("acme").size() == 1);
    assertEquals("moved", catalog.get("acme", "sku-moved").title(), "its product data too");
  }

  @Test
  void aTenantsFirstVersionRereadsThePartitionsItsManifestDoesNotName() {
    // Nothing of acme is served yet: its records pass by and are not kept.
    MockConsumer<byte[], byte[]> consumer = consumerWithTwoEmbeddingsPartitions();
    consumer.updateEndOffsets(Map.of(EMBEDDINGS_1, 0L));
    start(consumer);
    await().atMost(Duration.ofSeconds(30)).until(() -> follower.check().ok());
    consumer.schedulePollTask(() -> consumer.addRecord(new ConsumerRecord<>(Topics.EMBEDDINGS.name(), 1, 0L,
        "acme/sku-new".getBytes(StandardCharsets.UTF_8), embedding("acme", "sku-new").toByteArray())));
    await().atMost(Duration.ofSeconds(30)).until(() -> consumer.position(EMBEDDINGS_1) == 1L);

    // acme's first version, built when partition 1 had no record: its manifest names partition 0.
    LoadedIndex index = serving(Map.of(0, 0L));
    follower.rewindEmbeddings(index.manifest().embeddingsOffsets());
    // The broker still holds the record: offered on every poll, read only from a position at or before it.
    Runnable offer = new Runnable() {
      @Override
      public void run() {
        consumer.addRecord(new ConsumerRecord<>(Topics.EMBEDDINGS.name(), 1, 0L,
            "acme/sku-new".getBytes(StandardCharsets.UTF_8), embedding("acme", "sku-new").toByteArray()));
        consumer.schedulePollTask(this);
      }
    };
    consumer.schedulePollTask(offer);
    await().atMost(Duration.ofSeconds(30)).until(() -> deltas.of("acme").size() == 1);
  }

  /**
   * A product's trace reaches the step that made it searchable here: a live embeddings record is a
   * span under the record's context, as is an index publication's reload; the start-up replay is
   * not traced (every restart would add a span to every product's old trace).
   */
  @Test
  void liveRecordsContinueTheirProductsTraceAndTheReplayDoesNot() {
    serving(Map.of(0, 0L));
    MockConsumer<byte[], byte[]> consumer = consumerWithTopics();
    consumer.updateEndOffsets(Map.of(EMBEDDINGS_0, 1L));
    String replayed = "0af7651916cd43dd8448eb211c80319c";
    String live = "4bf92f3577b34da6a3ce929d0e0e4736";
    consumer.schedulePollTask(() -> consumer.addRecord(traced(new ConsumerRecord<>(Topics.EMBEDDINGS.name(), 0, 0L,
        "acme/sku-old".getBytes(StandardCharsets.UTF_8), embedding("acme", "sku-old").toByteArray()), replayed)));
    start(consumer);
    await().atMost(Duration.ofSeconds(30)).until(() -> follower.check().ok());

    consumer.schedulePollTask(() -> {
      consumer.addRecord(traced(new ConsumerRecord<>(Topics.EMBEDDINGS.name(), 0, 1L,
          "acme/sku-new".getBytes(StandardCharsets.UTF_8), embedding("acme", "sku-new").toByteArray()), live));
      consumer.addRecord(traced(new ConsumerRecord<>(Topics.INDEX_PUBLISHED.name(), 0, 0L,
          "acme".getBytes(StandardCharsets.UTF_8),
          IndexPublished.newBuilder().setTenant("acme").setIndexVersion("v2").build().toByteArray()), live));
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> spans.getFinishedSpanItems().stream()
        .anyMatch(s -> s.getName().equals(Topics.EMBEDDINGS.name() + " follow")));
    SpanData followed = spans.getFinishedSpanItems().stream()
        .filter(s -> s.getName().equals(Topics.EMBEDDINGS.name() + " follow")).findFirst().orElseThrow();
    assertEquals(live, followed.getTraceId());
    assertEquals("00f067aa0ba902b7", followed.getParentSpanId());
    assertEquals(Boolean.TRUE, followed.getAttributes().get(AttributeKey.booleanKey("fresh_delta.applied")));
    assertTrue(spans.getFinishedSpanItems().stream().noneMatch(s -> s.getTraceId().equals(replayed)),
        "the replayed record is not traced");
    await().atMost(Duration.ofSeconds(30)).until(() -> published.contains("acme " + live));
  }

  @Test
  void aProductRecordWhosePayloadNamesAnotherProductThanItsKeyIsSkipped() {
    serving(Map.of(0, 0L));
    MockConsumer<byte[], byte[]> consumer = consumerWithTopics();
    start(consumer);
    await().atMost(Duration.ofSeconds(30)).until(() -> follower.check().ok());

    consumer.schedulePollTask(() -> {
      consumer.addRecord(product(0, "globex/x", "globex", "x", "globex shirt"));
      consumer.addRecord(product(1, "acme/x", "globex", "x", "acme's title on globex's product"));
      consumer.addRecord(product(2, "acme/w", "acme", "x", "acme's w under the sku x"));
      consumer.addRecord(product(3, "acme/y", "", "", "named by its key only"));
      consumer.addRecord(product(4, "acme/z", "acme", "z", "last"));
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> catalog.get("acme", "z") != null);
    assertEquals("globex shirt", catalog.get("globex", "x").title(), "another tenant's record does not overwrite it");
    assertNull(catalog.get("acme", "x"));
    assertNull(catalog.get("acme", "w"));
    assertEquals("named by its key only", catalog.get("acme", "y").title());
    assertEquals("y", catalog.get("acme", "y").sku());
  }

  static ConsumerRecord<byte[], byte[]> product(long offset, String key, String tenant, String id, String title) {
    return new ConsumerRecord<>(Topics.CATALOG_PRODUCTS.name(), 0, offset, key.getBytes(StandardCharsets.UTF_8),
        ProductUpsert.newBuilder().setTenant(tenant).setProduct(Product.newBuilder().setId(id).setTitle(title)).build()
            .toByteArray());
  }

  static ConsumerRecord<byte[], byte[]> traced(ConsumerRecord<byte[], byte[]> rec, String traceId) {
    rec.headers().add("traceparent", ("00-" + traceId + "-00f067aa0ba902b7-01").getBytes(StandardCharsets.UTF_8));
    return rec;
  }

  static Embedding embedding(String tenant, String sku) {
    return Embedding.newBuilder().setTenant(tenant).setSku(sku).setModelName("default").setModelVersion(1)
        .addVector(1f).addVector(0f).build();
  }
}
