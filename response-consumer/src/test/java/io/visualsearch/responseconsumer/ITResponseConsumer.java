package io.visualsearch.responseconsumer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerProvider;
import io.visualsearch.config.Config;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.KafkaClients;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.proto.events.SearchHit;
import io.visualsearch.proto.events.SearchResponseEvent;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.searchapi.IndexPublication;
import io.visualsearch.searchapi.TestVectors;
import io.visualsearch.searchapi.similar.SimilarItemsFile;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.topics.Topics;
import io.visualsearch.tracing.TracingSettings;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(StackExtension.class)
class ITResponseConsumer {

  final ObjectMapper json = new ObjectMapper();

  @TempDir
  Path scratch;

  @Test
  void uploadsResponsesPrecomputesSimilarItemsAndDeadLettersPoison(EmbeddedStack stack) throws Exception {
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    env.put("ZIPKIN_ENDPOINT", "none");
    env.put("KAFKA_GROUP_ID", "it-response-consumer");
    env.put("SIMILAR_ITEMS_K", "3");
    env.put("SIMILAR_ITEMS_BATCH", "7");
    env.put("SIMILAR_ITEMS_INDEX_DIR", scratch.toString());
    Config config = ResponseConsumerService.definition().include(RuntimeSettings.definition()).parse(env);
    Producer<byte[], byte[]> producer = new KafkaClients(KafkaSettings.definition()
        .include(TracingSettings.definition()).parse(env)).producer("it-rc");
    ObjectStore store = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(env), true);
    store.start();
    ServiceHost host = new ServiceHost("response-consumer-it");
    try {
      String tenant = "rc";
      Map<String, float[]> vectors = TestVectors.random(40, 8, 3);
      // A file of a product the next version no longer holds must disappear.
      store.put(SimilarItemsFile.key(tenant, "discontinued"), "{}".getBytes(), "application/json");

      ResponseConsumerService.wire(config, host);
      host.start();
      try (Stream<Path> claimed = Files.list(scratch)) {
        assertTrue(claimed.anyMatch(p -> p.getFileName().toString().startsWith("instance-")),
            "shards are downloaded into SIMILAR_ITEMS_INDEX_DIR, not read through the heap");
      }
      new IndexPublication(store, producer).publish(tenant, "20250103T000000Z-rc1", 1, vectors, 2, endOffsets(stack));

      await().atMost(Duration.ofSeconds(60)).until(() -> store.exists(SimilarItemsFile.key(tenant, "sku-39")));
      for (String sku : List.of("sku-0", "sku-17", "sku-39")) {
        JsonNode file = json.readTree(store.get(SimilarItemsFile.key(tenant, sku)).orElseThrow().bytes());
        assertEquals("20250103T000000Z-rc1", file.get("index_version").asText());
        // Two models' versions both count from 1: search-api compares the file's vector only within its model.
        assertEquals("default", file.path("model_name").asText(null));
        List<String> got = json.convertValue(file.get("results").findValuesAsText("sku"), List.class);
        assertEquals(nearest(vectors, sku, 3), got, "neighbours of " + sku);
        assertFalse(got.contains(sku));
        // The product's own vector, as the cosine index compares it, for search-api's live searches of a larger k.
        float[] own = json.treeToValue(file, SimilarItemsFile.class).decodedVector();
        float[] expected = vectors.get(sku).clone();
        double norm = 0;
        for (float x : expected) {
          norm += x * x;
        }
        for (int i = 0; i < expected.length; i++) {
          expected[i] /= (float) Math.sqrt(norm);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, own, 1e-5f, "vector of " + sku);
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> !store.exists(SimilarItemsFile.key(tenant, "discontinued")));

      // A product-quantised version: 2-bit codes alone cannot order these neighbours, the rescoring must.
      String quantised = "rcq";
      new IndexPublication(store, producer).publish(quantised, "20250103T000000Z-rq1", 1, vectors, 2,
          endOffsets(stack), bytes -> bytes, "IVF1,PQ4x2np");
      await().atMost(Duration.ofSeconds(60)).until(() -> store.exists(SimilarItemsFile.key(quantised, "sku-39")));
      for (String sku : List.of("sku-0", "sku-17", "sku-39")) {
        JsonNode file = json.readTree(store.get(SimilarItemsFile.key(quantised, sku)).orElseThrow().bytes());
        List<String> got = json.convertValue(file.get("results").findValuesAsText("sku"), List.class);
        assertEquals(nearest(vectors, sku, 3), got, "exact neighbours of " + sku + " from a quantised version");
        for (JsonNode hit : file.get("results")) {
          assertEquals(dot(vectors.get(sku), vectors.get(hit.get("sku").asText())), hit.get("score").asDouble(), 1e-5,
              "the exact cosine of " + sku + " and " + hit.get("sku").asText());
        }
      }

      SearchResponseEvent answered = SearchResponseEvent.newBuilder().setRequestId("req-123").setTenant(tenant)
          .setIndexVersion("20250103T000000Z-rc1").setModelVersion(1).setK(2).setTraceId("abc")
          .addHits(SearchHit.newBuilder().setSku("sku-1").setScore(0.9f)).build();
      producer.send(new ProducerRecord<>(Topics.SEARCH_RESPONSES.name(), (tenant + "/req-123").getBytes(),
          answered.toByteArray())).get();
      await().atMost(Duration.ofSeconds(30)).until(() -> store.exists("responses/rc/req-123.json"));
      JsonNode stored = json.readTree(store.get("responses/rc/req-123.json").orElseThrow().bytes());
      assertEquals("sku-1", stored.get("hits").get(0).get("sku").asText());

      // A burst of one tenant's answers, archived by several workers at once: every one lands, whole.
      for (int i = 0; i < 200; i++) {
        SearchResponseEvent e = answered.toBuilder().setRequestId("burst-" + i).build();
        producer.send(new ProducerRecord<>(Topics.SEARCH_RESPONSES.name(), (tenant + "/burst-" + i).getBytes(),
            e.toByteArray()));
      }
      producer.flush();
      await().atMost(Duration.ofSeconds(60)).until(() -> store.list("responses/rc/burst-").size() == 200);
      assertEquals("burst-137", json.readTree(store.get("responses/rc/burst-137.json").orElseThrow().bytes())
          .get("request_id").asText());

      byte[] poison = "definitely not protobuf".getBytes(StandardCharsets.UTF_8);
      producer.send(new ProducerRecord<>(Topics.SEARCH_RESPONSES.name(), "rc".getBytes(), poison)).get();
      ConsumerRecord<byte[], byte[]> dead = awaitDeadLetter(stack, poison);
      assertEquals("malformed-payload", PipelineHeaders.get(dead.headers(), PipelineHeaders.DLQ_REASON));
      assertTrue(host.components().stream().allMatch(c -> c.check().ok()), "service healthy after poison");
    } finally {
      host.close();
      producer.close();
      store.close();
    }
  }

  /**
   * A similar-items run over a large catalog takes minutes, and a storefront's answers arrive all
   * the while: they must be archived meanwhile, not after it. The service is wired as in production;
   * only its download of the version's first shard is held (its start counted, its manifest read),
   * as a large shard's slow transfer holds a run.
   */
  @Test
  void answersAreArchivedWhileASimilarItemsRunIsHeldMidway(EmbeddedStack stack) throws Exception {
    String tenant = "rc-held";
    String version = "20250105T000000Z-rh1";
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    URI s3 = URI.create(env.get("S3_ENDPOINT"));
    String shard = "GET /" + env.get("S3_BUCKET") + "/" + IndexLayout.file(tenant, version, IndexLayout.shardFileName(0));
    Producer<byte[], byte[]> producer = new KafkaClients(KafkaSettings.definition()
        .include(TracingSettings.definition()).parse(env)).producer("it-rc-held");
    // The test's own store goes straight to the S3 server: only the service's requests pass the link.
    ObjectStore store = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(env), true);
    store.start();
    try (HoldingLink link = new HoldingLink(s3.getHost(), s3.getPort(),
        line -> line.startsWith(shard + " ") || line.startsWith(shard + "?"))) {
      env.put("S3_ENDPOINT", link.httpEndpoint());
      env.put("ZIPKIN_ENDPOINT", "none");
      env.put("KAFKA_GROUP_ID", "it-response-consumer-held");
      env.put("SIMILAR_ITEMS_K", "3");
      env.put("SIMILAR_ITEMS_INDEX_DIR", scratch.toString());
      Config config = ResponseConsumerService.definition().include(RuntimeSettings.definition()).parse(env);
      ServiceHost host = new ServiceHost("response-consumer-held-it");
      try {
        ResponseConsumerService.wire(config, host);
        host.start();
        Map<String, float[]> vectors = TestVectors.random(20, 8, 6);
        new IndexPublication(store, producer).publish(tenant, version, 1, vectors, 2, endOffsets(stack));
        // A new group reads the shared broker's earlier publications first: their runs pass, then ours is held.
        await("the run reaching its shard").atMost(Duration.ofSeconds(120)).until(() -> link.waiting() > 0);

        SearchResponseEvent answered = SearchResponseEvent.newBuilder().setTenant(tenant).setIndexVersion(version)
            .setModelVersion(1).setK(1).addHits(SearchHit.newBuilder().setSku("sku-1").setScore(0.9f)).build();
        for (int i = 0; i < 20; i++) {
          producer.send(new ProducerRecord<>(Topics.SEARCH_RESPONSES.name(), (tenant + "/held-" + i).getBytes(),
              answered.toBuilder().setRequestId("held-" + i).build().toByteArray()));
        }
        producer.flush();
        await("the answers archived while the run is held").atMost(Duration.ofSeconds(60))
            .until(() -> store.list("responses/" + tenant + "/").size() == 20);

        // All archived, and the run has not moved meanwhile: still waiting for its shard, nothing written.
        assertTrue(link.waiting() > 0, "the run is still held on its shard");
        assertTrue(store.exists(JobStarts.key(tenant, version)), "the run is under way: its start is counted");
        assertEquals(List.of(), similarFiles(store, tenant), "no similar items while the run is held");

        link.release();
        await("the released run's files").atMost(Duration.ofSeconds(60))
            .until(() -> similarFiles(store, tenant).size() == vectors.size());
        await("the released run's end").atMost(Duration.ofSeconds(30))
            .until(() -> !store.exists(JobStarts.key(tenant, version)));
        JsonNode file = json.readTree(store.get(SimilarItemsFile.key(tenant, "sku-7")).orElseThrow().bytes());
        assertEquals(nearest(vectors, "sku-7", 3), file.get("results").findValuesAsText("sku"),
            "the released run completes with the version's neighbours");
      } finally {
        link.release(); // a failed check must not leave the stop waiting on a held download
        host.close();
      }
    } finally {
      producer.close();
      store.close();
    }
  }

  private static List<String> similarFiles(ObjectStore store, String tenant) {
    return store.list("similar/" + tenant + "/").stream().filter(k -> k.endsWith(".json")).toList();
  }

  @Test
  void aCatalogWhoseVectorsExceedTheHeapAllowanceIsRefusedWithTheSizeItNeedsAndNothingWritten(EmbeddedStack stack)
      throws Exception {
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    env.put("ZIPKIN_ENDPOINT", "none");
    Producer<byte[], byte[]> producer = new KafkaClients(KafkaSettings.definition()
        .include(TracingSettings.definition()).parse(env)).producer("it-rc-heap");
    try (ObjectStore store = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(env), true)) {
      store.start();
      String tenant = "rc-heap";
      String version = "20250104T000000Z-rh1";
      Map<String, float[]> vectors = TestVectors.random(300, 64, 4);
      new IndexPublication(store, producer).publish(tenant, version, 1, vectors, 2, endOffsets(stack));
      Tracer tracer = TracerProvider.noop().get("it");

      // 300 vectors of 64 floats, their map entries and the index's id map take ~170 KB.
      PoisonRecordException e = assertThrows(PoisonRecordException.class,
          () -> new SimilarItemsJob(store, scratch, tracer, 3, 64, new HeapAllowance(64 * 1024),
              NativeAllowance.of(0)).run(tenant, version));
      assertEquals("catalog-exceeds-heap", e.reason());
      assertTrue(e.getMessage().contains("300 vectors of 64 dimensions"), e.getMessage());
      assertEquals(List.of(), store.list("similar/" + tenant + "/"), "a refused run writes nothing");

      assertEquals(300, new SimilarItemsJob(store, scratch, tracer, 3, 64, new HeapAllowance(256 * 1024),
          NativeAllowance.of(0)).run(tenant, version),
          "the same catalog within a larger allowance");
      assertEquals(300, store.list("similar/" + tenant + "/").stream().filter(k -> k.endsWith(".json")).count(),
          "a file per product (beside the run's cursor)");
    } finally {
      producer.close();
    }
  }

  static List<String> nearest(Map<String, float[]> vectors, String sku, int k) {
    float[] q = vectors.get(sku);
    return vectors.entrySet().stream().filter(e -> !e.getKey().equals(sku))
        .sorted(Comparator.comparingDouble((Map.Entry<String, float[]> e) -> -dot(q, e.getValue()))
            .thenComparing(Map.Entry::getKey))
        .limit(k).map(Map.Entry::getKey).toList();
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }

  static Map<Integer, Long> endOffsets(EmbeddedStack stack) {
    try (KafkaConsumer<byte[], byte[]> c = reader(stack)) {
      List<TopicPartition> parts = c.partitionsFor(Topics.EMBEDDINGS.name()).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      return c.endOffsets(parts).entrySet().stream().collect(Collectors.toMap(e -> e.getKey().partition(), Map.Entry::getValue));
    }
  }

  static KafkaConsumer<byte[], byte[]> reader(EmbeddedStack stack) {
    Properties p = new Properties();
    p.put("bootstrap.servers", stack.kafkaBootstrapServers());
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  static ConsumerRecord<byte[], byte[]> awaitDeadLetter(EmbeddedStack stack, byte[] value) {
    try (KafkaConsumer<byte[], byte[]> c = reader(stack)) {
      String dlq = Topics.SEARCH_RESPONSES.dlq().name();
      List<TopicPartition> parts = c.partitionsFor(dlq).stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          if (java.util.Arrays.equals(r.value(), value)) {
            return r;
          }
        }
      }
    }
    throw new AssertionError("poison record never reached the dead-letter topic");
  }
}
