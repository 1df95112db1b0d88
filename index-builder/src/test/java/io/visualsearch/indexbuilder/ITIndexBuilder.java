package io.visualsearch.indexbuilder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.config.Config;
import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.SearchResult;
import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.ImageKeys;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.Sha256;
import io.visualsearch.indexformat.ShardVectors;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.KafkaClients;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.proto.events.IndexPublished;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.FaultyLink;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.tracing.TracingSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The builder against a real broker, S3 server and Zipkin: what lands in the bucket, what is
 * announced, what is dead-lettered, and what survives a restart.
 */
@ExtendWith(StackExtension.class)
class ITIndexBuilder {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private final IndexJson json = new IndexJson();

  /** A running builder and the test's own clients, closed together. */
  private record Harness(ServiceHost host, IndexBuilderService service, ObjectStore store,
      Producer<byte[], byte[]> producer, KafkaClients clients) implements AutoCloseable {
    @Override
    public void close() {
      host.close();
      producer.close();
      store.close();
    }
  }

  /**
   * Until the builder's group has committed every embeddings record produced so far: a check that
   * nothing was published afterwards is then about records the builder has applied, not about
   * records it may not have read yet on a loaded machine (the topic holds every test's tenants).
   */
  private static void awaitIntakeCommittedToTheEnd(Harness h, String group) {
    try (org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> probe = h.clients().consumer(group, group + "-probe")) {
      Set<TopicPartition> tps = new HashSet<>();
      probe.partitionsFor(io.visualsearch.topics.Topics.EMBEDDINGS.name())
          .forEach(p -> tps.add(new TopicPartition(p.topic(), p.partition())));
      Map<TopicPartition, Long> ends = probe.endOffsets(tps);
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        var committed = probe.committed(tps);
        return tps.stream().allMatch(tp -> ends.get(tp) == 0
            || committed.get(tp) != null && committed.get(tp).offset() >= ends.get(tp));
      });
    }
  }

  private Map<String, String> env(EmbeddedStack stack, String group) {
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    env.put("KAFKA_GROUP_ID", group);
    env.put("SERVICE_INSTANCE_ID", group);
    env.put("HEALTH_HEARTBEAT_INTERVAL", "1s");
    env.put("INDEX_BUILDER_DEBOUNCE_QUIET", "300ms");
    env.put("INDEX_BUILDER_DEBOUNCE_MAX_DELAY", "2s");
    env.put("INDEX_BUILDER_EXACT_THRESHOLD", "25");
    env.put("INDEX_BUILDER_RETENTION", "0s");
    env.put("INDEX_BUILDER_MIGRATION_COVERAGE", "1.0");
    env.put("INDEX_BUILDER_MIGRATION_QUIET", "10m");
    env.put("INDEX_BUILDER_BUILD_THREADS", "1");
    return env;
  }

  private Harness start(EmbeddedStack stack, String group) throws Exception {
    return start(stack, group, Map.of());
  }

  private Harness start(EmbeddedStack stack, String group, Map<String, String> overrides) throws Exception {
    Map<String, String> env = env(stack, group);
    env.putAll(overrides);
    Config config = IndexBuilderService.definition().include(RuntimeSettings.definition()).parse(env);
    ServiceHost host = new ServiceHost(IndexBuilderService.NAME);
    IndexBuilderService service = IndexBuilderService.wire(config, host);
    host.start();
    // The test looks at the bucket directly, whatever the service goes through.
    ObjectStore store = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(env(stack, group)), false);
    store.start();
    KafkaClients clients = new KafkaClients(KafkaSettings.definition().include(TracingSettings.definition()).parse(env));
    return new Harness(host, service, store, clients.producer(group + "-test"), clients);
  }

  private static float[] vector(Random r, int dim) {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  private static void send(Harness h, String tenant, String sku, byte[] value) throws Exception {
    RecordHeaders headers = new RecordHeaders();
    headers.add(PipelineHeaders.TENANT, tenant.getBytes(StandardCharsets.UTF_8));
    h.producer().send(new ProducerRecord<>("embeddings", null, (tenant + "/" + sku).getBytes(StandardCharsets.UTF_8),
        value, headers)).get();
  }

  private static void upsert(Harness h, String tenant, String sku, long modelVersion, float[] v) throws Exception {
    send(h, tenant, sku, Records.embedding(tenant, sku, modelVersion, v).toByteArray());
  }

  private static void upsert(Harness h, String tenant, String sku, String variant, float[] v) throws Exception {
    send(h, tenant, sku, Records.embedding(tenant, sku, 1, v).toBuilder().setVectorVariant(variant).build().toByteArray());
  }

  private CurrentPointer current(Harness h, String tenant) throws Exception {
    var o = h.store().get(IndexLayout.currentPointer(tenant));
    return o.isEmpty() ? null : json.pointer(o.get().bytes());
  }

  private IndexManifest manifest(Harness h, CurrentPointer p) throws Exception {
    return json.manifest(h.store().get(p.manifestKey()).orElseThrow().bytes());
  }

  /** Waits until CURRENT names a version other than {@code not} whose manifest satisfies the check. */
  private IndexManifest awaitPublished(Harness h, String tenant, String not, java.util.function.Predicate<IndexManifest> ok) {
    AtomicReference<IndexManifest> seen = new AtomicReference<>();
    await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
      CurrentPointer p = current(h, tenant);
      if (p == null || p.version().equals(not)) {
        return false;
      }
      IndexManifest m = manifest(h, p);
      seen.set(m);
      return ok.test(m);
    });
    return seen.get();
  }

  private byte[] file(Harness h, IndexManifest m, String name) {
    return h.store().get(IndexLayout.file(m.tenant(), m.version(), name)).orElseThrow().bytes();
  }

  /** Checks every file against the manifest and returns the ids in the shards. */
  private Set<Long> verifiedIds(Harness h, IndexManifest m) throws Exception {
    Set<Long> ids = new HashSet<>();
    for (IndexManifest.ShardFile s : m.shards()) {
      byte[] bytes = file(h, m, s.file());
      Sha256.verify(s.file(), bytes, s.bytes(), s.sha256());
      try (FaissIndex index = FaissIndex.deserialize(bytes)) {
        assertEquals(m.dimension(), index.dimension());
        assertEquals(s.vectors(), index.ntotal());
        if (m.searchParameters() != null) {
          index.setParameters(m.searchParameters());
        }
        if (index.ntotal() > 0) {
          SearchResult r = index.search(new float[m.dimension()], (int) index.ntotal());
          for (long id : r.ids(0)) {
            ids.add(id);
          }
        }
      }
    }
    byte[] tsv = file(h, m, m.skuMap().file());
    Sha256.verify(m.skuMap().file(), tsv, m.skuMap().bytes(), m.skuMap().sha256());
    Set<Long> tsvIds = new HashSet<>();
    new String(tsv, StandardCharsets.UTF_8).lines().forEach(l -> {
      String[] parts = l.split("\t");
      assertEquals(SkuIds.id(m.tenant(), parts[1]), Long.parseLong(parts[0]));
      tsvIds.add(Long.parseLong(parts[0]));
    });
    assertEquals(tsvIds, ids, "skus.tsv lists exactly the shards' ids");
    byte[] images = file(h, m, m.imageMap().file());
    Sha256.verify(m.imageMap().file(), images, m.imageMap().bytes(), m.imageMap().sha256());
    ImageKeys keys = ImageKeys.parse(images);
    new String(tsv, StandardCharsets.UTF_8).lines().forEach(l -> {
      String[] parts = l.split("\t");
      assertEquals(ImageKeys.of(Records.imageSha(parts[1])), keys.keyOf(Long.parseLong(parts[0])),
          "images.tsv names the image of " + parts[1]);
    });
    assertEquals(m.vectorCount(), ids.size());
    return ids;
  }

  private static Set<Long> idsOf(String tenant, List<String> skus) {
    Set<Long> ids = new HashSet<>();
    skus.forEach(s -> ids.add(SkuIds.id(tenant, s)));
    return ids;
  }

  private List<ConsumerRecord<byte[], byte[]>> readTopic(Harness h, String topic, java.util.function.Predicate<List<ConsumerRecord<byte[], byte[]>>> enough) {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (var c = h.clients().consumer("it-reader-" + System.nanoTime(), "it-reader")) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (!enough.test(out) && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  private static String key(ConsumerRecord<byte[], byte[]> r) {
    return r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
  }

  @Test
  void tenantsGetTheirOwnVerifiedShardsDeletesAreHonouredAndPoisonIsDeadLettered(EmbeddedStack stack) throws Exception {
    try (Harness h = start(stack, "it-ib-main")) {
      Random r = new Random(42);
      List<String> skusA = new ArrayList<>();
      List<String> skusB = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        skusA.add(i == 0 ? "shared" : "a-" + i);
      }
      for (int i = 0; i < 12; i++) {
        skusB.add(i == 0 ? "shared" : "b-" + i);
      }
      Map<String, float[]> vectorsA = new HashMap<>();
      for (String s : skusA) {
        vectorsA.put(s, vector(r, 8));
        upsert(h, "it-a", s, 1, vectorsA.get(s));
      }
      for (String s : skusB) {
        upsert(h, "it-b", s, 1, vector(r, 8));
      }

      IndexManifest a1 = awaitPublished(h, "it-a", null, m -> m.vectorCount() == 30);
      IndexManifest b1 = awaitPublished(h, "it-b", null, m -> m.vectorCount() == 12);
      assertEquals("default", a1.modelName());
      assertEquals(1, a1.modelVersion());
      assertEquals("serving_default", a1.signature());
      assertEquals(8, a1.dimension());
      assertEquals("cosine", a1.metric());
      assertEquals("IDMap,HNSW32", a1.factory(), "30 vectors are above the test's exact threshold of 25");
      assertEquals("efSearch=64", a1.searchParameters());
      assertEquals("IDMap,Flat", b1.factory());
      assertFalse(a1.embeddingsOffsets().isEmpty());
      Set<Long> idsA = verifiedIds(h, a1);
      Set<Long> idsB = verifiedIds(h, b1);
      assertEquals(idsOf("it-a", skusA), idsA);
      assertEquals(idsOf("it-b", skusB), idsB);
      assertTrue(idsA.stream().noneMatch(idsB::contains), "the same SKU in two tenants has two ids");

      // A product's own photo embedding finds it first.
      try (FaissIndex index = FaissIndex.deserialize(file(h, a1, a1.shards().get(0).file()))) {
        float[] q = vectorsA.get("a-7").clone();
        double norm = 0;
        for (float x : q) {
          norm += x * x;
        }
        for (int i = 0; i < q.length; i++) {
          q[i] /= (float) Math.sqrt(norm);
        }
        assertEquals(SkuIds.id("it-a", "a-7"), index.search(q, 1).id(0, 0));
      }

      // A delete reaches the next version.
      send(h, "it-a", "a-3", null);
      IndexManifest a2 = awaitPublished(h, "it-a", a1.version(), m -> m.vectorCount() == 29);
      Set<Long> idsA2 = verifiedIds(h, a2);
      assertFalse(idsA2.contains(SkuIds.id("it-a", "a-3")));
      assertEquals(29, idsA2.size());

      // Poison is dead-lettered with its reason and the builder keeps going.
      send(h, "it-a", "bad-dim", Records.embedding("it-a", "bad-dim", 1, 1f, 2f, 3f, 4f, 5f).toByteArray());
      send(h, "it-a", "bad-nan", Records.embedding("it-a", "bad-nan", 1, 1f, Float.NaN, 0, 0, 0, 0, 0, 0).toByteArray());
      send(h, "it-a", "bad-bytes", new byte[] {(byte) 0xff, (byte) 0xfe, 0x07, 0x00, 0x13});
      send(h, "it-a", "unknown-model", Records.embedding("it-a", "unknown-model", 1, vector(r, 8)).toBuilder()
          .setModelName("").build().toByteArray()); // any name is indexed, none is not
      upsert(h, "it-a", "after-poison", 1, vector(r, 8));
      IndexManifest a3 = awaitPublished(h, "it-a", a2.version(), m -> m.vectorCount() == 30);
      assertTrue(verifiedIds(h, a3).contains(SkuIds.id("it-a", "after-poison")));

      List<ConsumerRecord<byte[], byte[]>> dlq = readTopic(h, "embeddings.dlq",
          l -> l.stream().filter(x -> key(x).startsWith("it-a/")).count() >= 4);
      Map<String, String> reasons = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> d : dlq) {
        if (key(d).startsWith("it-a/")) {
          reasons.put(key(d), PipelineHeaders.get(d.headers(), PipelineHeaders.DLQ_REASON));
          assertEquals("it-a", PipelineHeaders.get(d.headers(), PipelineHeaders.TENANT));
        }
      }
      assertEquals(Map.of("it-a/bad-dim", "wrong-dimension", "it-a/bad-nan", "non-finite-vector",
          "it-a/bad-bytes", "malformed-payload", "it-a/unknown-model", "unknown-model"), reasons);
      h.host().components().forEach(c -> assertTrue(c.check().ok(), c.name() + ": " + c.check().detail()));

      // Old versions are collected (retention 0 here) but CURRENT's and the one before stay.
      await().atMost(WAIT).until(() -> versions(h, "it-a").size() == 2);
      assertEquals(new TreeSet<>(List.of(a2.version(), a3.version())), versions(h, "it-a"));
      assertTrue(h.store().list(IndexLayout.versionPrefix("it-a", a1.version())).isEmpty());

      // Each publication is announced with tenant, model version and the build's trace context.
      List<ConsumerRecord<byte[], byte[]>> published = readTopic(h, "index.published",
          l -> l.stream().filter(x -> "it-a".equals(key(x))).count() >= 3);
      List<IndexPublished> eventsA = new ArrayList<>();
      String traceparent = null;
      for (ConsumerRecord<byte[], byte[]> p : published) {
        if ("it-a".equals(key(p))) {
          eventsA.add(IndexPublished.parseFrom(p.value()));
          assertEquals("it-a", PipelineHeaders.get(p.headers(), PipelineHeaders.TENANT));
          assertEquals("1", PipelineHeaders.get(p.headers(), PipelineHeaders.MODEL_VERSION));
          traceparent = PipelineHeaders.get(p.headers(), "traceparent");
        }
      }
      assertEquals(List.of(a1.version(), a2.version(), a3.version()),
          eventsA.stream().map(IndexPublished::getIndexVersion).toList());
      assertEquals(30, eventsA.get(2).getVectorCount());
      assertEquals(IndexLayout.manifest("it-a", a3.version()), eventsA.get(2).getManifestKey());
      assertNotNull(traceparent);

      // The build span is in Zipkin with what it built.
      String traceId = traceparent.split("-")[1];
      JsonNode span = zipkinSpan(stack, traceId, "index build");
      assertEquals("it-a", span.path("tags").path("tenant").asText());
      assertEquals(a3.version(), span.path("tags").path("index.version").asText());
      assertEquals("30", span.path("tags").path("vectors").asText());
      assertEquals("1", span.path("tags").path("model.version").asText());
      assertEquals("IDMap,HNSW32", span.path("tags").path("factory").asText());
      // Zipkin drops links: the products the build links to get an "indexed" span in their own
      // traces, naming the version and the build's trace.
      String indexedQuery = stack.zipkin().baseUrl() + "/api/v2/traces?spanName=indexed&lookback=3600000&limit=50"
          + "&annotationQuery=" + java.net.URLEncoder.encode("index.version=" + a3.version(), StandardCharsets.UTF_8);
      await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(() -> {
        String body = http(indexedQuery);
        return body.startsWith("[") && body.contains("\"build.trace_id\":\"" + traceId + "\"");
      });

      String metrics = http("http://127.0.0.1:" + h.service().pipeline().ops().port() + "/metrics");
      assertTrue(metrics.contains("index_builder_published_vectors{tenant=\"it-a\"} 30.0"), metrics);
      assertTrue(metrics.contains("index_builder_builds_total{outcome=\"published\"}"), metrics);
      assertTrue(metrics.contains("index_builder_build_duration_seconds_count"), metrics);
    }
  }

  @Test
  void quantisedShardsArePublishedWithTheirExactVectorsVerifiedByTheManifest(EmbeddedStack stack, @TempDir Path dir)
      throws Exception {
    try (Harness h = start(stack, "it-ib-pq", Map.of("INDEX_BUILDER_FACTORY", "IVF{nlist},PQ4x4np",
        "INDEX_BUILDER_SHARD_MAX_VECTORS", "25"))) {
      Random r = new Random(11);
      Map<Long, float[]> unitById = new HashMap<>();
      for (int i = 0; i < 40; i++) {
        float[] v = vector(r, 8);
        upsert(h, "it-pq", "p-" + i, 1, v);
        unitById.put(SkuIds.id("it-pq", "p-" + i), unit(v));
      }
      IndexManifest m = awaitPublished(h, "it-pq", null, x -> x.vectorCount() == 40);
      assertEquals("IVF1,PQ4x4np", m.factory());
      assertEquals(2, m.shards().size());
      Set<Long> ids = verifiedIds(h, m);
      int read = 0;
      for (IndexManifest.ShardFile shard : m.shards()) {
        IndexManifest.IndexFile exact = shard.exactVectors();
        assertNotNull(exact, shard.file() + " is quantised: its exact vectors ship beside it");
        Path local = dir.resolve(exact.file());
        assertTrue(h.store().download(IndexLayout.file("it-pq", m.version(), exact.file()), local));
        Sha256.verify(exact.file(), local, exact.bytes(), exact.sha256());
        try (ShardVectors vectors = ShardVectors.open(local, m.dimension(), shard.vectors())) {
          float[] row = new float[m.dimension()];
          for (long id : ids) {
            if (vectors.read(id, row)) {
              assertArrayEquals(unitById.get(id), row, 1e-6f, "the normalised vector of id " + id);
              read++;
            }
          }
        }
      }
      assertEquals(40, read, "every product is in exactly one shard's vectors");
    }
  }

  private static float[] unit(float[] v) {
    double norm = 0;
    for (float x : v) {
      norm += (double) x * x;
    }
    float[] u = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      u[i] = (float) (v[i] / Math.sqrt(norm));
    }
    return u;
  }

  @Test
  void aModelUpgradeIsPublishedWholeOnlyAndARestartRebuildsTheCatalogFromTheTopic(EmbeddedStack stack)
      throws Exception {
    Random r = new Random(7);
    List<String> skus = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      skus.add("c-" + i);
    }
    IndexManifest v1;
    try (Harness h = start(stack, "it-ib-upgrade")) {
      for (String s : skus) {
        upsert(h, "it-c", s, 1, vector(r, 8));
      }
      v1 = awaitPublished(h, "it-c", null, m -> m.vectorCount() == 10);
      assertEquals(1, v1.modelVersion());
      // Half the catalog re-embedded by model version 2 (another dimension, as a new model may have).
      for (String s : skus.subList(0, 5)) {
        upsert(h, "it-c", s, 2, vector(r, 16));
      }
      // Applied, then well past the debounce: a builder that did not wait for coverage would have
      // published 5 vectors of v2 by now.
      awaitIntakeCommittedToTheEnd(h, "it-ib-upgrade");
      Thread.sleep(3_000);
      assertEquals(v1.version(), current(h, "it-c").version(), "a half-migrated catalog must not be published");
    }

    try (Harness h = start(stack, "it-ib-upgrade")) {
      assertEquals(v1.version(), current(h, "it-c").version());
      for (String s : skus.subList(5, 10)) {
        upsert(h, "it-c", s, 2, vector(r, 16));
      }
      // Ten vectors, not five: the first half came back from the replay of the topic.
      IndexManifest v2 = awaitPublished(h, "it-c", v1.version(), m -> m.modelVersion() == 2);
      assertEquals(10, v2.vectorCount());
      assertEquals(16, v2.dimension());
      assertEquals(idsOf("it-c", skus), verifiedIds(h, v2));

      send(h, "it-c", "c-0", null);
      IndexManifest v3 = awaitPublished(h, "it-c", v2.version(), m -> m.vectorCount() == 9);
      assertEquals(2, v3.modelVersion());

      // A retailer whose whole catalog is gone gets an empty index, not the stale one.
      for (String s : skus.subList(1, 10)) {
        send(h, "it-c", s, null);
      }
      IndexManifest empty = awaitPublished(h, "it-c", v3.version(), m -> m.vectorCount() == 0);
      assertEquals(2, empty.modelVersion());
      assertEquals(16, empty.dimension());
      assertEquals(Set.of(), verifiedIds(h, empty));

      List<ConsumerRecord<byte[], byte[]>> published = readTopic(h, "index.published",
          l -> l.stream().filter(x -> "it-c".equals(key(x))).count() >= 4);
      for (ConsumerRecord<byte[], byte[]> p : published) {
        if ("it-c".equals(key(p))) {
          IndexPublished e = IndexPublished.parseFrom(p.value());
          assertTrue(e.getModelVersion() == 1 || e.getVectorCount() >= 9 || e.getVectorCount() == 0,
              "never a partial index of the new model: " + e);
        }
      }
    }
  }

  @Test
  void anotherVectorVariantOfTheSameVersionIsPublishedWholeOnlyAndRecordsWithoutOneJoinTheServedVariant(
      EmbeddedStack stack) throws Exception {
    Random r = new Random(5);
    String tenant = "it-variant";
    String asIs224 = "serving_default.embedding.224px.as-is";
    String resized299 = "serving_default.embedding.299px.resized";
    List<String> skus = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      skus.add("v-" + i);
    }
    try (Harness h = start(stack, "it-ib-variant")) {
      for (String s : skus) {
        upsert(h, tenant, s, 1, vector(r, 8)); // written before records named their variant
      }
      IndexManifest legacy = awaitPublished(h, tenant, null, m -> m.vectorCount() == 10);
      assertNull(legacy.vectorVariant());
      // The upgraded generator's first records, same configuration: the same model, not a rollout.
      for (String s : skus.subList(0, 3)) {
        upsert(h, tenant, s, asIs224, vector(r, 8));
      }
      IndexManifest named = awaitPublished(h, tenant, legacy.version(), m -> asIs224.equals(m.vectorVariant()));
      assertEquals(10, named.vectorCount(), "the records without a variant joined it");
      // Reconfigured to another image size: same version, signature and dimension, another space.
      for (String s : skus.subList(0, 5)) {
        upsert(h, tenant, s, resized299, vector(r, 8));
      }
      awaitIntakeCommittedToTheEnd(h, "it-ib-variant");
      Thread.sleep(3_000); // well past the debounce
      assertEquals(named.version(), current(h, tenant).version(), "half a catalog of the new variant is not published,"
          + " nor are its vectors mixed into the served one's");
      for (String s : skus.subList(5, 10)) {
        upsert(h, tenant, s, resized299, vector(r, 8));
      }
      IndexManifest resized = awaitPublished(h, tenant, named.version(), m -> resized299.equals(m.vectorVariant()));
      assertEquals(10, resized.vectorCount());
      assertEquals(idsOf(tenant, skus), verifiedIds(h, resized));
    }
  }

  @Test
  void anIndexOfTheDimensionARestartNoLongerAcceptsIsRebuiltAtStart(EmbeddedStack stack) throws Exception {
    Random r = new Random(11);
    String tenant = "it-dim";
    IndexManifest served;
    try (Harness h = start(stack, "it-ib-dim")) {
      upsert(h, tenant, "a", 1, vector(r, 3));
      upsert(h, tenant, "b", 1, vector(r, 3));
      IndexManifest first = awaitPublished(h, tenant, null, m -> m.vectorCount() == 2);
      // Most of the catalog comes back with another dimension of the same model (an operator's
      // change of output): refused while running, since the index already has 3.
      for (String s : List.of("c", "d", "e", "g")) {
        upsert(h, tenant, s, 1, vector(r, 4));
      }
      upsert(h, tenant, "f", 1, vector(r, 3));
      served = awaitPublished(h, tenant, first.version(), m -> m.vectorCount() == 3);
      assertEquals(3, served.dimension(), "published after every record above: it covers them all");
    }
    try (Harness h = start(stack, "it-ib-dim")) {
      // The replay settles the model on 4 dimensions, as most products carry: a, b and f are refused now.
      IndexManifest rebuilt = awaitPublished(h, tenant, served.version(), m -> true);
      assertEquals(4, rebuilt.dimension());
      assertEquals(idsOf(tenant, List.of("c", "d", "e", "g")), verifiedIds(h, rebuilt));
    }
  }

  @Test
  void anObjectStoreOutageDelaysBuildsButLosesNothing(EmbeddedStack stack) throws Exception {
    URI s3 = URI.create(stack.s3().endpoint());
    try (FaultyLink proxy = new FaultyLink(s3.getHost(), s3.getPort());
        Harness h = start(stack, "it-ib-outage", Map.of("S3_ENDPOINT", proxy.httpEndpoint()))) {
      proxy.cut();
      Random r = new Random(11);
      List<String> skus = new ArrayList<>();
      for (int i = 0; i < 15; i++) {
        skus.add("d-" + i);
        upsert(h, "it-d", "d-" + i, 1, vector(r, 8));
      }
      var builds = h.host().components().stream().filter(c -> c.name().equals("index-builds")).findFirst().orElseThrow();
      await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> builds.check().detail().contains("it-d="));
      String metricsUrl = "http://127.0.0.1:" + h.service().pipeline().ops().port() + "/metrics";
      assertTrue(http(metricsUrl).contains("index_builder_builds_total{outcome=\"failed\"}"));
      assertEquals(null, current(h, "it-d"));
      // Every record was still consumed and committed: intake does not wait for the store.
      assertEquals(15, h.service().products("it-d"));

      proxy.restore();
      IndexManifest m = awaitPublished(h, "it-d", null, x -> x.vectorCount() == 15);
      assertEquals(idsOf("it-d", skus), verifiedIds(h, m));
      await().atMost(WAIT).until(() -> builds.check().detail().equals("ok"));
    }
  }

  private TreeSet<String> versions(Harness h, String tenant) {
    TreeSet<String> out = new TreeSet<>();
    for (String k : h.store().list(IndexLayout.tenantPrefix(tenant))) {
      String v = IndexLayout.versionOf(tenant, k);
      if (v != null) {
        out.add(v);
      }
    }
    return out;
  }

  private static String http(String url) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  private static JsonNode zipkinSpan(EmbeddedStack stack, String traceId, String name) {
    AtomicReference<JsonNode> found = new AtomicReference<>();
    await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(() -> {
      String body = http(stack.zipkin().baseUrl() + "/api/v2/trace/" + traceId);
      if (!body.startsWith("[")) {
        return false;
      }
      for (JsonNode n : new ObjectMapper().readTree(body)) {
        if (name.equals(n.path("name").asText())) {
          found.set(n);
          return true;
        }
      }
      return false;
    });
    return found.get();
  }

  /**
   * A second member in the builder's consumer group (a second instance by mistake, a zombie pod)
   * takes some embeddings partitions: each instance would publish versions missing the other's
   * changes. The builder stops building and says why until it owns them all again.
   */
  @Test
  void aSecondMemberInTheBuildersGroupHoldsItsBuildsUntilItLeaves(EmbeddedStack stack) throws Exception {
    try (Harness h = start(stack, "it-ib-fence")) {
      Random r = new Random(5);
      for (int i = 0; i < 5; i++) {
        upsert(h, "it-fence", "f-" + i, 1, vector(r, 8));
      }
      IndexManifest first = awaitPublished(h, "it-fence", null, m -> m.vectorCount() == 5);
      Component builds = h.host().components().stream().filter(c -> c.name().equals("index-builds")).findFirst()
          .orElseThrow();
      String sku;
      Properties p = new Properties();
      p.put("bootstrap.servers", stack.kafkaBootstrapServers());
      p.put("group.id", "it-ib-fence");
      p.put("client.id", "0-second-builder"); // sorts first: the range assignor gives it two of three partitions
      p.put("enable.auto.commit", "false");
      try (KafkaConsumer<byte[], byte[]> second = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
          new ByteArrayDeserializer())) {
        second.subscribe(List.of("embeddings"));
        await().atMost(WAIT).until(() -> {
          second.poll(Duration.ofMillis(100));
          return !second.assignment().isEmpty() && !builds.check().ok();
        });
        assertTrue(builds.check().detail().contains("another index-builder"), builds.check().detail());
        // A change on one of the builder's own partitions: one the second member owns would never
        // reach the builder, and no version would follow whether builds were held or not.
        sku = skuOutside(second, "it-fence", "f-", 5);
        upsert(h, "it-fence", sku, 1, vector(r, 8));
        await().atMost(WAIT).until(() -> {
          second.poll(Duration.ofMillis(100));
          return h.service().products("it-fence") == 6;
        });
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos(); // beyond the 2 s debounce
        while (System.nanoTime() < until) {
          second.poll(Duration.ofMillis(100));
        }
        assertEquals(first.version(), current(h, "it-fence").version(), "no version while the group is shared");
      }
      IndexManifest after = awaitPublished(h, "it-fence", first.version(), m -> m.vectorCount() == 6);
      assertTrue(verifiedIds(h, after).contains(SkuIds.id("it-fence", sku)), "the held change is in the next version");
      assertTrue(builds.check().ok(), builds.check().detail());
    }
  }

  /**
   * A second member takes two of three embeddings partitions, handles a tombstone there and commits
   * it, then leaves: the builder took them back at that commit, never applied the tombstone, and
   * its next version, after a change on the same partition, claimed to cover it with the deleted
   * product still in it. The builder stops instead, and its restart replays the topic.
   */
  @Test
  void aSecondMemberThatHandledRecordsStopsTheBuilderWhenItHandsThemBack(EmbeddedStack stack) throws Exception {
    String tenant = "it-handback";
    List<String> skus = new ArrayList<>();
    Random r = new Random(7);
    String deleted;
    String added;
    String first;
    try (Harness h = start(stack, "it-ib-handback")) {
      for (int i = 0; i < 12; i++) {
        skus.add("h-" + i);
        upsert(h, tenant, "h-" + i, 1, vector(r, 8));
      }
      first = awaitPublished(h, tenant, null, m -> m.vectorCount() == 12).version();
      Component builds = h.host().components().stream().filter(c -> c.name().equals("index-builds")).findFirst()
          .orElseThrow();
      Properties p = new Properties();
      p.put("bootstrap.servers", stack.kafkaBootstrapServers());
      p.put("group.id", "it-ib-handback");
      p.put("client.id", "0-second-builder"); // sorts first: the range assignor gives it two of three partitions
      p.put("enable.auto.commit", "false");
      try (KafkaConsumer<byte[], byte[]> second = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
          new ByteArrayDeserializer())) {
        second.subscribe(List.of("embeddings"));
        await().atMost(WAIT).until(() -> {
          second.poll(Duration.ofMillis(100));
          return !second.assignment().isEmpty() && !builds.check().ok();
        });
        deleted = skus.stream().filter(sku -> second.assignment().contains(
            new TopicPartition("embeddings", partitionOf(second, tenant, sku)))).findFirst()
            .orElseThrow(() -> new AssertionError("no product on " + second.assignment()));
        int partition = partitionOf(second, tenant, deleted);
        added = skuOn(second, tenant, "h-", 12, partition);
        send(h, tenant, deleted, null);
        await().atMost(WAIT).until(() -> {
          boolean seen = false;
          for (ConsumerRecord<byte[], byte[]> rec : second.poll(Duration.ofMillis(100))) {
            seen |= rec.value() == null && key(rec).equals(tenant + "/" + deleted);
          }
          return seen;
        });
        second.commitSync();
      }
      // After the hand-back: a change on the same partition, which the builder reads past the tombstone.
      upsert(h, tenant, added, 1, vector(r, 8));
      assertTrue(h.host().awaitStop(WAIT), "the builder stops");
      assertEquals(io.visualsearch.runtime.ExitCode.FAILED, h.host().awaitStop());
      assertEquals(first, current(h, tenant).version(), "nothing published from the incomplete memory");
    }
    try (Harness h = start(stack, "it-ib-handback")) {
      IndexManifest m = awaitPublished(h, tenant, first, x -> true);
      Set<Long> ids = verifiedIds(h, m);
      assertFalse(ids.contains(SkuIds.id(tenant, deleted)), "the replay applied the tombstone");
      assertTrue(ids.contains(SkuIds.id(tenant, added)));
    }
  }

  private static int partitionOf(KafkaConsumer<byte[], byte[]> member, String tenant, String sku) {
    byte[] key = (tenant + "/" + sku).getBytes(StandardCharsets.UTF_8);
    return Utils.toPositive(Utils.murmur2(key)) % member.partitionsFor("embeddings").size();
  }

  /** The first sku {@code prefix + n}, {@code prefix + (n + 1)}, ... on {@code partition}. */
  private static String skuOn(KafkaConsumer<byte[], byte[]> member, String tenant, String prefix, int n,
      int partition) {
    for (int i = n; i < n + 100; i++) {
      if (partitionOf(member, tenant, prefix + i) == partition) {
        return prefix + i;
      }
    }
    throw new AssertionError("no sku on partition " + partition);
  }

  /**
   * The first sku {@code prefix + n}, {@code prefix + (n + 1)}, ... whose embeddings key the
   * producer's default partitioner (murmur2 of the key) puts on a partition {@code member} does not own.
   */
  private static String skuOutside(KafkaConsumer<byte[], byte[]> member, String tenant, String prefix, int n) {
    int partitions = member.partitionsFor("embeddings").size();
    for (int i = n; i < n + 100; i++) {
      byte[] key = (tenant + "/" + prefix + i).getBytes(StandardCharsets.UTF_8);
      int partition = Utils.toPositive(Utils.murmur2(key)) % partitions;
      if (!member.assignment().contains(new TopicPartition("embeddings", partition))) {
        return prefix + i;
      }
    }
    throw new AssertionError(member.assignment() + " holds every embeddings partition");
  }
}
