package io.visualsearch.responseconsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import io.visualsearch.objectstore.StoredObject;
import io.visualsearch.pipeline.KafkaClients;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.pipeline.RetriableProcessingException;
import io.visualsearch.proto.events.IndexPublished;
import io.visualsearch.searchapi.IndexPublication;
import io.visualsearch.searchapi.TestVectors;
import io.visualsearch.searchapi.similar.SimilarItemsFile;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.topics.Topics;
import io.visualsearch.tracing.TracingSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The job against versions published in the stack's object store and announced on its broker: it
 * reads each version's vectors from the version itself (shards, or a quantised shard's exact
 * vectors), never from the embeddings topic.
 */
@ExtendWith(StackExtension.class)
class ITSimilarItemsJob {

  /** The job produces nothing; the loop's outbox only hears of its progress. */
  static final io.visualsearch.pipeline.Outbox NOTHING_SENT = new io.visualsearch.pipeline.Outbox(null, null);


  final ObjectMapper json = new ObjectMapper();
  final Tracer tracer = TracerProvider.noop().get("it");

  @TempDir
  Path scratch;

  ObjectStore store;
  Producer<byte[], byte[]> producer;
  EmbeddedStack stack;

  @BeforeEach
  void openStoreAndBroker(EmbeddedStack stack) {
    this.stack = stack;
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    env.put("ZIPKIN_ENDPOINT", "none");
    store = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(env), true);
    store.start();
    Config kafka = KafkaSettings.definition().include(TracingSettings.definition()).parse(env);
    producer = new KafkaClients(kafka).producer("it-similar-items-job");
  }

  @AfterEach
  void closeStoreAndBroker() {
    if (producer != null) {
      producer.close();
    }
    if (store != null) {
      store.close();
    }
  }

  @Test
  void aCatalogOverTheHeapAllowanceIsRefusedBeforeAnyShardIsRead() throws Exception {
    PoisonRecordException e = refusedBeforeAnyShardIsRead("sij-heap", new HeapAllowance(1024), NativeAllowance.of(0));
    assertEquals("catalog-exceeds-heap", e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains("50 vectors of 16 dimensions"), e.getMessage());
  }

  @Test
  void aCatalogWhoseShardsExceedTheNativeAllowanceIsRefusedBeforeAnyShardIsRead() throws Exception {
    // 50 vectors of 16 floats: the Flat shard is over 3 KiB; the heap has room for them.
    PoisonRecordException e = refusedBeforeAnyShardIsRead("sij-native", HeapAllowance.ofThisJvm(),
        new NativeAllowance(1024, "a test's"));
    assertEquals("catalog-exceeds-native-memory", e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains("allows them 1 MiB (a test's)"), e.getMessage());
  }

  /**
   * The refusal of a job with these allowances over a published version of 50 vectors of 16
   * dimensions whose shard is then deleted: read before the checks, the shard would fail the run as
   * corrupt-index (as a large one filled the heap) and the refusal would never be reached.
   */
  private PoisonRecordException refusedBeforeAnyShardIsRead(String tenant, HeapAllowance heap,
      NativeAllowance natives) throws Exception {
    String version = "20250105T000000Z-a1";
    Map<String, float[]> vectors = TestVectors.random(50, 16, 5);
    publish(tenant, version, vectors);
    store.delete(IndexLayout.file(tenant, version, IndexLayout.shardFileName(0)));
    SimilarItemsJob job = new SimilarItemsJob(store, scratch, tracer, 3, 8, heap, natives);
    return assertThrows(PoisonRecordException.class, () -> job.handle(published(tenant, version), NOTHING_SENT));
  }

  @Test
  void aPublicationWhoseJobKeptKillingTheProcessIsDeadLetteredAtItsNextStart() throws Exception {
    String tenant = "sij-crashes";
    String version = "20250105T000000Z-c1";
    Map<String, float[]> vectors = TestVectors.random(10, 8, 9);
    publish(tenant, version, vectors);
    SimilarItemsJob job = new SimilarItemsJob(store, scratch, tracer, 3, 8);

    // One earlier start died with the process: the job runs again, and its count goes when it ends.
    store.put(JobStarts.key(tenant, version), "1".getBytes(StandardCharsets.UTF_8), "text/plain");
    String older = "20250104T000000Z-c0"; // a count no redelivery will ever remove
    store.put(JobStarts.key(tenant, older), "2".getBytes(StandardCharsets.UTF_8), "text/plain");
    job.handle(published(tenant, version), NOTHING_SENT);
    assertTrue(store.get(SimilarItemsFile.key(tenant, "sku-3")).isPresent());
    assertTrue(store.get(JobStarts.key(tenant, version)).isEmpty(), "an ended job leaves no count");
    assertTrue(store.get(JobStarts.key(tenant, older)).isEmpty(), "removed with the stale files");

    // Every start so far died with the process (each restart read the record again): no more.
    store.delete(SimilarItemsFile.key(tenant, "sku-3"));
    store.put(JobStarts.key(tenant, version), Integer.toString(SimilarItemsJob.MAX_STARTS)
        .getBytes(StandardCharsets.UTF_8), "text/plain");
    PoisonRecordException e = assertThrows(PoisonRecordException.class,
        () -> job.handle(published(tenant, version), NOTHING_SENT));
    assertEquals("job-crashed", e.reason(), e.getMessage());
    assertTrue(store.get(SimilarItemsFile.key(tenant, "sku-3")).isEmpty(), "not run again");
    assertTrue(store.get(JobStarts.key(tenant, version)).isEmpty());
  }

  /**
   * A stop interrupts a job that outlasts the loop's drain limit: it ends at once as interrupted
   * (never as a failure, which would dead-letter the publication), and its start is counted as
   * ended, so three rollouts during long jobs do not make the publication look like a crash loop.
   */
  @Test
  void aJobInterruptedByAStopEndsWithoutCountingAsACrash() throws Exception {
    String tenant = "sij-stopped";
    String version = "20250105T000000Z-i1";
    Map<String, float[]> vectors = TestVectors.random(10, 8, 11);
    publish(tenant, version, vectors);
    int[] chunks = {0};
    Tracer stoppingAtTheSecondChunk = name -> {
      if (name.equals("similar items batch") && ++chunks[0] == 2) {
        Thread.currentThread().interrupt(); // what the loop's cancel does to the handler thread
      }
      return tracer.spanBuilder(name);
    };
    SimilarItemsJob job = new SimilarItemsJob(store, scratch, stoppingAtTheSecondChunk, 3, 4);
    try {
      assertThrows(InterruptedException.class, () -> job.handle(published(tenant, version), NOTHING_SENT));
    } finally {
      Thread.interrupted();
    }
    assertTrue(store.get(JobStarts.key(tenant, version)).isEmpty(), "a stopped job is no crash");
    assertEquals(2, chunks[0], "no chunk after the interrupt");
  }

  /**
   * A rolling deploy or a node drain stops the service while a long job downloads a big shard or
   * sits in a native FAISS call, neither of which answers the interrupt: the process ended before
   * the job did, its start stayed counted, and three routine deploys dead-lettered the publication
   * as {@code job-crashed}.
   */
  @Test
  void aStopOnRequestTakesBackTheStartOfTheJobInFlight() throws Exception {
    String tenant = "sij-planned";
    String version = "20250105T000000Z-p1";
    publish(tenant, version, TestVectors.random(10, 8, 13));
    java.util.concurrent.CountDownLatch inJob = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Tracer holding = name -> {
      if (name.equals("similar items batch") && inJob.getCount() > 0) {
        inJob.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return tracer.spanBuilder(name);
    };
    store.put(JobStarts.key(tenant, version), "1".getBytes(StandardCharsets.UTF_8), "text/plain"); // died once
    SimilarItemsJob job = new SimilarItemsJob(store, scratch, holding, 3, 4);
    java.util.concurrent.atomic.AtomicReference<Exception> failed = new java.util.concurrent.atomic.AtomicReference<>();
    Thread running = new Thread(() -> {
      try {
        job.handle(published(tenant, version), NOTHING_SENT);
      } catch (Exception e) {
        failed.set(e);
      }
    }, "test-similar-items-job");
    running.start();
    try {
      assertTrue(inJob.await(60, java.util.concurrent.TimeUnit.SECONDS));
      assertEquals("2", startsOf(tenant, version), "this start is counted while the job runs");
      job.beginStop(); // returns at once; the take-back is written on a thread of its own
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
          .until(() -> startsOf(tenant, version).equals("1"));
      assertEquals("1", startsOf(tenant, version), "were the process to end now, only the earlier start counts");
    } finally {
      release.countDown();
      running.join(60_000);
    }
    org.junit.jupiter.api.Assertions.assertNull(failed.get());
    assertTrue(store.get(JobStarts.key(tenant, version)).isEmpty(), "it ended after all: no count");
    job.beginStop();
    job.close(); // waits for the take-back
    assertTrue(store.get(JobStarts.key(tenant, version)).isEmpty(), "nothing in flight: nothing taken back");
  }

  private String startsOf(String tenant, String version) {
    return store.get(JobStarts.key(tenant, version)).map(o -> new String(o.bytes(), StandardCharsets.UTF_8))
        .orElse("none");
  }

  @Test
  void aScratchDirectoryThatCannotBeWrittenIsRetriedNotDeadLettered() throws Exception {
    String tenant = "sij-scratch";
    String version = "20250105T000000Z-s1";
    Map<String, float[]> vectors = TestVectors.random(10, 8, 7);
    publish(tenant, version, vectors);
    Path notADirectory = Files.createFile(scratch.resolve("a-file"));

    SimilarItemsJob job = new SimilarItemsJob(store, notADirectory, tracer, 3, 8);
    assertThrows(RetriableProcessingException.class, () -> job.handle(published(tenant, version), NOTHING_SENT));
    assertTrue(store.get(JobStarts.key(tenant, version)).isEmpty(), "a failure the process survived is no crash");
  }

  /**
   * The neighbours are those of the vectors the version holds, read from its own files: nothing
   * of the tenant is on the embeddings topic here (compacted away, or another model's by now), and
   * every indexed product still gets its file; a file of a product the version does not hold goes.
   */
  @ParameterizedTest
  @ValueSource(strings = {"flat", "quantised"})
  void everyIndexedProductsNeighboursComeFromTheVersionsOwnVectors(String kind) throws Exception {
    String tenant = "sij-own-" + kind;
    String version = "20250105T000000Z-o1";
    Map<String, float[]> indexed = TestVectors.random(kind.equals("flat") ? 12 : 300, 8, 8);
    store.put(SimilarItemsFile.key(tenant, "discontinued"), "{}".getBytes(StandardCharsets.UTF_8), "application/json");
    if (kind.equals("flat")) {
      new IndexPublication(store, producer).publish(tenant, version, 1, indexed, 2, Map.of());
    } else {
      // IVF-PQ shards: their codes only approximate the vectors, which the version keeps beside them.
      new IndexPublication(store, producer).publish(tenant, version, 1, indexed, 2, Map.of(), bytes -> bytes,
          "IVF1,PQ4x2np");
    }

    java.util.concurrent.atomic.AtomicInteger chunks = new java.util.concurrent.atomic.AtomicInteger();
    int written = new SimilarItemsJob(store, scratch, tracer, 3, 64).run(tenant, version, chunks::incrementAndGet);

    assertEquals(indexed.size(), written);
    // The consumer loop is told after each chunk of 64 files: an hours-long run is not taken for a stuck one.
    assertEquals((indexed.size() + 63) / 64, chunks.get());
    assertFalse(store.exists(SimilarItemsFile.key(tenant, "discontinued")));
    for (String sku : List.of("sku-0", "sku-5", "sku-11")) {
      JsonNode file = json.readTree(store.get(SimilarItemsFile.key(tenant, sku)).orElseThrow().bytes());
      assertEquals(version, file.get("index_version").asText());
      // Unit vectors: the nearest by brute force over the indexed vectors, with their cosines.
      assertEquals(ITResponseConsumer.nearest(indexed, sku, 3), file.get("results").findValuesAsText("sku"),
          "neighbours of " + sku + ": " + file);
      for (JsonNode hit : file.get("results")) {
        assertEquals(ITResponseConsumer.dot(indexed.get(sku), indexed.get(hit.get("sku").asText())),
            hit.get("score").asDouble(), 1e-5, sku + "'s cosine with " + hit.get("sku").asText());
      }
    }
  }

  /**
   * A feed lists each size of a dress as its own product with the dress's one picture, embedded
   * once: a page listed the product's other sizes, and a neighbour's page every size, at 1.0.
   */
  @Test
  void productsSharingOnePictureAreListedOnceAndNeverOnEachOthersPages() throws Exception {
    String tenant = "sij-sizes";
    String version = "20250106T000000Z-s1";
    Map<String, float[]> indexed = new java.util.HashMap<>(TestVectors.random(12, 8, 21));
    float[] dress = indexed.get("sku-0");
    for (String size : List.of("dress-s", "dress-m", "dress-l", "dress-xl")) {
      indexed.put(size, dress.clone());
    }
    // A picture closest to the dress: its four sizes (and sku-0, the same picture) lead its ranking.
    float[] near = dress.clone();
    near[0] += 0.05f;
    double norm = Math.sqrt(ITResponseConsumer.dot(near, near));
    for (int i = 0; i < near.length; i++) {
      near[i] /= (float) norm;
    }
    indexed.put("near-dress", near);
    publish(tenant, version, indexed);

    new SimilarItemsJob(store, scratch, tracer, 3, 64).run(tenant, version, () -> { });

    List<String> nearItems = items(tenant, "near-dress");
    assertEquals(3, nearItems.size(), nearItems.toString());
    assertEquals(1, nearItems.stream().filter(s -> s.startsWith("dress-") || s.equals("sku-0")).count(),
        "the dress once: " + nearItems);
    List<String> others = new java.util.ArrayList<>(indexed.keySet());
    others.removeIf(s -> s.startsWith("dress-") || s.equals("sku-0"));
    Map<String, float[]> otherPictures = new java.util.HashMap<>(indexed);
    otherPictures.keySet().retainAll(others);
    otherPictures.put("dress-m", dress);
    assertEquals(ITResponseConsumer.nearest(otherPictures, "dress-m", 3), items(tenant, "dress-m"),
        "none of its own sizes: the nearest other pictures");
  }

  private List<String> items(String tenant, String sku) throws Exception {
    return json.readTree(store.get(SimilarItemsFile.key(tenant, sku)).orElseThrow().bytes()).get("results")
        .findValuesAsText("sku");
  }

  @Test
  void aRunOvertakenWhileReadingTheVectorsWritesNothingAndLeavesTheNewerVersionsFilesAlone() throws Exception {
    Overtaking o = new Overtaking("sij-overtaken-read");
    // The newer version is published as the older run begins reading its version's vectors.
    Tracer overtakingWhileReading = name -> {
      if (name.equals("read indexed vectors")) {
        o.overtake();
      }
      return tracer.spanBuilder(name);
    };

    int written = new SimilarItemsJob(store, scratch, overtakingWhileReading, 3, 4).run(o.tenant, o.older);

    o.assertNewerFileSurvives();
    assertEquals(0, written);
    assertFalse(store.exists(SimilarItemsFile.key(o.tenant, "sku-0")), "nothing written for the older version");
  }

  @Test
  void aRunOvertakenWhileWritingDeletesNothingOfTheNewerVersion() throws Exception {
    Overtaking o = new Overtaking("sij-overtaken-write");
    // 10 products in chunks of 4: the job opens a span per chunk it searches, so the third opens
    // after the last check before writing; the stale files were deleted before the first.
    int[] chunks = {0};
    Tracer overtakingAtTheLastChunk = name -> {
      if (name.equals("similar items batch") && ++chunks[0] == 3) {
        o.overtake();
      }
      return tracer.spanBuilder(name);
    };

    int written = new SimilarItemsJob(store, scratch, overtakingAtTheLastChunk, 3, 4)
        .run(o.tenant, o.older);

    o.assertNewerFileSurvives();
    assertEquals(3, chunks[0]);
    assertEquals(10, written, "its last chunk was under way: written, and nothing deleted after it");
  }

  /**
   * A tenant republished faster than its run takes: every run is overtaken after its first chunk.
   * Each run goes on where the last one stopped, so together they reach every product, and each
   * removes the files of products gone before writing.
   */
  @Test
  void runsOvertakenOneAfterAnotherWriteOnWhereTheLastStoppedAndStillRemoveGoneProducts() throws Exception {
    String tenant = "sij-republished";
    List<String> versions = List.of("20250106T000000Z-r1", "20250106T000001Z-r2", "20250106T000002Z-r3");
    Map<String, float[]> vectors = TestVectors.random(10, 8, 11);
    publish(tenant, versions.get(0), vectors);
    store.put(SimilarItemsFile.key(tenant, "discontinued"), "{}".getBytes(StandardCharsets.UTF_8), "application/json");
    for (int run = 0; run < 2; run++) {
      String next = versions.get(run + 1);
      Tracer overtakingInTheFirstChunk = name -> {
        if (!name.equals("similar items batch")) {
          return tracer.spanBuilder(name);
        }
        try {
          publish(tenant, next, vectors);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        return tracer.spanBuilder(name);
      };
      // Chunks of 4: the check before the first passed, the one before the second finds the next version.
      assertEquals(0, new SimilarItemsJob(store, scratch, overtakingInTheFirstChunk, 3, 4)
          .run(tenant, versions.get(run)));
      assertFalse(store.exists(SimilarItemsFile.key(tenant, "discontinued")), "removed though the run was overtaken");
    }
    for (int i = 0; i < 8; i++) {
      JsonNode file = json.readTree(store.get(SimilarItemsFile.key(tenant, "sku-" + i)).orElseThrow().bytes());
      assertEquals(versions.get(i / 4), file.get("index_version").asText(), "sku-" + i);
    }
    assertFalse(store.exists(SimilarItemsFile.key(tenant, "sku-8")), "not reached yet");
  }

  /**
   * A tenant republished every few minutes rewrote every product's file each time: millions of
   * writes a publication for the largest catalogs. Only files whose neighbours or vector changed
   * are written; the others keep the version that first found their neighbours.
   */
  @Test
  void aRepublicationRewritesOnlyTheFilesWhoseNeighboursOrVectorChanged() throws Exception {
    String tenant = "sij-unchanged";
    String first = "20250107T000000Z-u1";
    String second = "20250107T000001Z-u2";
    Map<String, float[]> before = TestVectors.random(20, 8, 31);
    publish(tenant, first, before);
    assertEquals(20, new SimilarItemsJob(store, scratch, tracer, 3, 8).run(tenant, first));
    Map<String, byte[]> filesBefore = files(tenant, before.keySet());

    // sku-0's picture changed: its own file, and those listing it before or after, change.
    Map<String, float[]> after = new HashMap<>(before);
    after.put("sku-0", TestVectors.random(1, 8, 32).values().iterator().next());
    publish(tenant, second, after);
    assertEquals(20, new SimilarItemsJob(store, scratch, tracer, 3, 8).run(tenant, second),
        "every product's file is current, written or not");

    java.util.Set<String> changed = new java.util.TreeSet<>(List.of("sku-0"));
    for (String sku : before.keySet()) {
      if (ITResponseConsumer.nearest(before, sku, 3).contains("sku-0")
          || ITResponseConsumer.nearest(after, sku, 3).contains("sku-0")) {
        changed.add(sku);
      }
    }
    assertTrue(changed.size() > 1 && changed.size() < 20, "the data leave both kinds: " + changed);
    Map<String, byte[]> filesAfter = files(tenant, before.keySet());
    for (String sku : before.keySet()) {
      JsonNode file = json.readTree(filesAfter.get(sku));
      assertEquals(ITResponseConsumer.nearest(after, sku, 3), file.get("results").findValuesAsText("sku"), sku);
      if (changed.contains(sku)) {
        assertEquals(second, file.get("index_version").asText(), sku + " changed: written again");
      } else {
        assertArrayEquals(filesBefore.get(sku), filesAfter.get(sku), sku + " unchanged: left as written");
      }
    }
  }

  /**
   * The ledger's marks are bound to the ETags the files had when written: a file changed since
   * (by hand, or by a run that never saved its ledger) is written again, and a ledger lost or
   * damaged costs one rewrite of every file, never a file left wrong or a failed run.
   */
  @Test
  void aFileChangedSinceItWasWrittenOrALostLedgerMeansWritingAgain() throws Exception {
    String tenant = "sij-ledger";
    List<String> versions = List.of("20250108T000000Z-l1", "20250108T000001Z-l2", "20250108T000002Z-l3",
        "20250108T000003Z-l4");
    Map<String, float[]> vectors = TestVectors.random(10, 8, 41);
    publish(tenant, versions.get(0), vectors);
    new SimilarItemsJob(store, scratch, tracer, 3, 4).run(tenant, versions.get(0));

    JsonNode original = json.readTree(store.get(SimilarItemsFile.key(tenant, "sku-1")).orElseThrow().bytes());
    ((com.fasterxml.jackson.databind.node.ObjectNode) original).putArray("results");
    store.put(SimilarItemsFile.key(tenant, "sku-1"), json.writeValueAsBytes(original), "application/json");
    publish(tenant, versions.get(1), vectors);
    new SimilarItemsJob(store, scratch, tracer, 3, 4).run(tenant, versions.get(1));
    assertEquals(versions.get(1), versionOf(tenant, "sku-1"), "changed behind the ledger's back: written again");
    assertEquals(ITResponseConsumer.nearest(vectors, "sku-1", 3), items(tenant, "sku-1"));
    assertEquals(versions.get(0), versionOf(tenant, "sku-2"), "the others left as they were");

    store.delete(WrittenLedger.key(tenant));
    publish(tenant, versions.get(2), vectors);
    assertEquals(10, new SimilarItemsJob(store, scratch, tracer, 3, 4).run(tenant, versions.get(2)));
    for (String sku : vectors.keySet()) {
      assertEquals(versions.get(2), versionOf(tenant, sku), sku + " without a ledger: written again");
    }

    store.put(WrittenLedger.key(tenant), "not a ledger".getBytes(StandardCharsets.UTF_8), "application/gzip");
    publish(tenant, versions.get(3), vectors);
    assertEquals(10, new SimilarItemsJob(store, scratch, tracer, 3, 4).run(tenant, versions.get(3)));
    for (String sku : vectors.keySet()) {
      assertEquals(versions.get(3), versionOf(tenant, sku), sku + " with a damaged ledger: written again");
    }
  }

  private String versionOf(String tenant, String sku) throws Exception {
    return json.readTree(store.get(SimilarItemsFile.key(tenant, sku)).orElseThrow().bytes()).get("index_version")
        .asText();
  }

  private Map<String, byte[]> files(String tenant, java.util.Collection<String> skus) {
    Map<String, byte[]> out = new HashMap<>();
    for (String sku : skus) {
      out.put(sku, store.get(SimilarItemsFile.key(tenant, sku)).orElseThrow().bytes());
    }
    return out;
  }

  /** A tenant whose version {@code older} is replaced by {@code newer}, which adds product sku-new. */
  final class Overtaking {
    final String tenant;
    final String older = "20250105T000000Z-o1";
    final String newer = "20250105T000001Z-o2";
    final Map<String, float[]> first = TestVectors.random(10, 8, 9);
    final Map<String, float[]> second = new LinkedHashMap<>(first);
    final byte[] newerFile;

    Overtaking(String tenant) throws Exception {
      this.tenant = tenant;
      publish(tenant, older, first);
      second.put("sku-new", TestVectors.random(1, 8, 10).values().iterator().next());
      newerFile = json.writeValueAsBytes(new SimilarItemsFile(tenant, "sku-new", newer, 1, 1L,
          List.of(new SimilarItemsFile.Item("sku-1", 0.5f))));
    }

    /** The builder publishes the next version, and that version's run (another member's, after a rebalance) writes. */
    void overtake() {
      try {
        publish(tenant, newer, second);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      store.put(SimilarItemsFile.key(tenant, "sku-new"), newerFile, "application/json");
    }

    void assertNewerFileSurvives() {
      Optional<StoredObject> survivor = store.get(SimilarItemsFile.key(tenant, "sku-new"));
      assertTrue(survivor.isPresent(), "the newer version's file survives the older run");
      assertArrayEquals(newerFile, survivor.get().bytes());
    }
  }

  /** A version of {@code vectors} (Flat shards), announced on the stack's broker. */
  void publish(String tenant, String version, Map<String, float[]> vectors) throws Exception {
    new IndexPublication(store, producer).publish(tenant, version, 1, vectors, 2, Map.of());
  }

  static ConsumerRecord<byte[], byte[]> published(String tenant, String version) {
    byte[] value = IndexPublished.newBuilder().setTenant(tenant).setIndexVersion(version).setModelVersion(1).build()
        .toByteArray();
    return new ConsumerRecord<>(Topics.INDEX_PUBLISHED.name(), 0, 0, tenant.getBytes(StandardCharsets.UTF_8), value);
  }
}
