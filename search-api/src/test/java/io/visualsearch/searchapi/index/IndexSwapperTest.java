package io.visualsearch.searchapi.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ScriptedS3;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.searchapi.MemoryStore;
import io.visualsearch.searchapi.StuckStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

class IndexSwapperTest {

  private static final String V1 = "20240101T000000Z-v1";
  private static final String V2 = "20240102T000000Z-v2";

  @Test
  void publicationsQueuedBehindASlowLoadCostOneReloadATenantNotOneEach(@TempDir Path scratch) throws Exception {
    // Each reload reads the tenant's CURRENT pointer; the first one hangs like a long transfer.
    StuckStore stuck = new StuckStore();
    CountDownLatch storeAnswers = stuck.answers;
    AtomicInteger pointerReads = stuck.reads;
    ObjectStore store = stuck.store;
    PrometheusRegistry registry = new PrometheusRegistry();
    IndexSwapper swapper = new IndexSwapper(new IndexLoader(store, scratch), new TenantIndexes(i -> { }),
        Duration.ofHours(1), registry, new Activity(registry), OpenTelemetry.noop().getTracer("test"));
    swapper.start();
    try {
      swapper.published("acme", Context.root());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (pointerReads.get() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertEquals(1, pointerReads.get(), "the first reload is loading");
      for (int i = 0; i < 1000; i++) {
        swapper.published("acme", Context.root());
        swapper.published("globex", Context.root());
      }
      storeAnswers.countDown();
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (pointerReads.get() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      Thread.sleep(500); // any further queued reload would read the pointer by now
      assertEquals(3, pointerReads.get(), "one reload of each tenant after the slow one, not 2000");
      swapper.published("acme", Context.root());
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (pointerReads.get() < 4 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertTrue(pointerReads.get() == 4, "a publication after the queue drained is reloaded again");
    } finally {
      storeAnswers.countDown();
      swapper.close();
      store.close();
    }
  }

  /**
   * An offboarded retailer (its key removed) kept its index loaded on every replica, taking native
   * memory and able to hold an instance unready at start, for a catalog no request could reach.
   */
  @Test
  void onlyTenantsThatHaveAnApiKeyAreLoaded() throws Exception {
    io.visualsearch.searchapi.MemoryStore memory = new io.visualsearch.searchapi.MemoryStore();
    TinyVersions.publish(memory, "acme", "20240101T000000Z-v1", 2);
    TinyVersions.publish(memory, "gone", "20240101T000000Z-v1", 2);
    PrometheusRegistry registry = new PrometheusRegistry();
    TenantIndexes indexes = new TenantIndexes(i -> { });
    IndexSwapper swapper = new IndexSwapper(new IndexLoader(memory.store, null), indexes, Duration.ofHours(1),
        registry, new Activity(registry), OpenTelemetry.noop().getTracer("test"), java.util.Set.of("acme")::contains, 1);
    swapper.start();
    try {
      assertEquals(java.util.Optional.of("20240101T000000Z-v1"), indexes.servedVersion("acme"));
      assertEquals(java.util.Optional.empty(), indexes.servedVersion("gone"));
      assertTrue(swapper.check().ok(), swapper.check().detail());
      // Nor at its next publication.
      TinyVersions.publish(memory, "gone", "20240102T000000Z-v2", 2);
      TinyVersions.publish(memory, "acme", "20240102T000000Z-v2", 2);
      swapper.published("gone", Context.root());
      swapper.published("acme", Context.root());
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
          .until(() -> indexes.servedVersion("acme").equals(java.util.Optional.of("20240102T000000Z-v2")));
      assertEquals(java.util.Optional.empty(), indexes.servedVersion("gone"));
    } finally {
      swapper.close();
      memory.store.close();
    }
  }

  /**
   * One load at a time, an instance of many tenants became ready only after the sum of their loads,
   * and a large tenant's long transfer held every other tenant's publication behind it.
   */
  @Test
  void aTenantsLongLoadHoldsOnlyItsOwnLane() throws Exception {
    MemoryStore memory = new MemoryStore();
    TinyVersions.publish(memory, "acme", V1, 2);
    TinyVersions.publish(memory, "globex", V1, 2);
    CountDownLatch acmeTransfer = new CountDownLatch(1);
    memory.held.put(IndexLayout.file("acme", V1, ""), acmeTransfer);
    PrometheusRegistry registry = new PrometheusRegistry();
    TenantIndexes indexes = new TenantIndexes(i -> { });
    IndexSwapper swapper = new IndexSwapper(new IndexLoader(memory.store, null), indexes, Duration.ofHours(1),
        registry, new Activity(registry), OpenTelemetry.noop().getTracer("test"), tenant -> true, 2);
    CompletableFuture<Void> started = CompletableFuture.runAsync(swapper::start);
    try {
      // At the start: globex is served while acme's shards are still on their way.
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> indexes.servedVersion("globex").isPresent());
      assertFalse(started.isDone(), "the start waits for every tenant's load");
      acmeTransfer.countDown();
      started.get(30, TimeUnit.SECONDS);
      assertEquals(Optional.of(V1), indexes.servedVersion("acme"));

      // After it: the same for publications.
      TinyVersions.publish(memory, "acme", V2, 2);
      TinyVersions.publish(memory, "globex", V2, 2);
      CountDownLatch acmeV2 = new CountDownLatch(1);
      memory.held.put(IndexLayout.file("acme", V2, ""), acmeV2);
      swapper.published("acme", Context.root());
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> reads(memory, IndexLayout.manifest("acme", V2)) == 1);
      swapper.published("globex", Context.root());
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> indexes.servedVersion("globex").equals(Optional.of(V2)));
      // Acme's publications meanwhile wait for its load, on its lane: one more reload, never a second beside it.
      for (int i = 0; i < 100; i++) {
        swapper.published("acme", Context.root());
      }
      Thread.sleep(300); // a second loader of acme would be reading its pointer by now
      assertEquals(2, reads(memory, IndexLayout.currentPointer("acme")),
          "acme's pointer read at the start and by the load in progress, by no second loader");
      acmeV2.countDown();
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> indexes.servedVersion("acme").equals(Optional.of(V2)));
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> reads(memory, IndexLayout.currentPointer("acme")) == 3);
      Thread.sleep(300);
      assertEquals(3, reads(memory, IndexLayout.currentPointer("acme")), "the queued publications cost one reload");
      assertTrue(swapper.check().ok(), swapper.check().detail());
    } finally {
      memory.held.values().forEach(CountDownLatch::countDown);
      swapper.close();
      memory.store.close();
    }
  }

  /**
   * The poll queues a reload too; one queued behind a long load must not take the place of a
   * publication's, whose trace would then lose the load of its version.
   */
  @Test
  void aPublicationQueuedBehindALoadKeepsItsTraceWhenThePollComesToo() throws Exception {
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    SdkTracerProvider tracing = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build();
    MemoryStore memory = new MemoryStore();
    TinyVersions.publish(memory, "acme", V1, 2);
    PrometheusRegistry registry = new PrometheusRegistry();
    TenantIndexes indexes = new TenantIndexes(i -> { });
    IndexSwapper swapper = new IndexSwapper(new IndexLoader(memory.store, null), indexes, Duration.ofMillis(20),
        registry, new Activity(registry), tracing.get("test"), tenant -> true, 2);
    swapper.start();
    CountDownLatch v2Transfer = new CountDownLatch(1);
    try {
      memory.held.put(IndexLayout.file("acme", V2, ""), v2Transfer);
      TinyVersions.publish(memory, "acme", V2, 2);
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> reads(memory, IndexLayout.manifest("acme", V2)) == 1);
      String v3 = "20240103T000000Z-v3";
      TinyVersions.publish(memory, "acme", v3, 2);
      Span publication = tracing.get("test").spanBuilder("index.published").startSpan();
      swapper.published("acme", Context.root().with(publication));
      publication.end();
      int pointerReads = reads(memory, IndexLayout.currentPointer("acme"));
      // Polls come every 20 ms: each reads acme's pointer only once its reload runs, so wait on time.
      Thread.sleep(300);
      assertEquals(pointerReads, reads(memory, IndexLayout.currentPointer("acme")), "no reload beside the held one");
      v2Transfer.countDown();
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> indexes.servedVersion("acme").equals(Optional.of(v3)));
      SpanData load = Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> spans.getFinishedSpanItems().stream()
          .filter(s -> s.getName().equals("load index") && v3.equals(s.getAttributes().get(
              io.opentelemetry.api.common.AttributeKey.stringKey("index.version")))).findFirst().orElse(null),
          java.util.Objects::nonNull);
      assertEquals(publication.getSpanContext().getSpanId(), load.getParentSpanId(),
          "the version's load is traced under its publication");
    } finally {
      v2Transfer.countDown();
      swapper.close();
      memory.store.close();
      tracing.close();
    }
  }

  /**
   * With several lanes, another tenant's long transfer holds room a swap needs: the refused tenant
   * waited out a back-off doubling to 30 minutes (an hour here, the poll interval), long after the
   * room came back. It is retried when a reservation is given back.
   */
  @Test
  void aTenantRefusedRoomWhileAnotherLoadsIsRetriedWhenTheRoomIsGivenBack() throws Exception {
    MemoryStore memory = new MemoryStore();
    long oneVersion = NativeMemoryBudget.needed(TinyVersions.publish(memory, "acme", V1, 2));
    TinyVersions.publish(memory, "globex", V1, 2);
    // Room for three versions: both served ones and one swap's next version.
    NativeMemoryBudget budget = new NativeMemoryBudget(3 * oneVersion + oneVersion / 2, "test");
    PrometheusRegistry registry = new PrometheusRegistry();
    TenantIndexes indexes = new TenantIndexes(i -> { });
    IndexSwapper swapper = new IndexSwapper(new IndexLoader(memory.store, null, budget), indexes, Duration.ofHours(1),
        registry, new Activity(registry), OpenTelemetry.noop().getTracer("test"), tenant -> true, 2);
    swapper.start();
    CountDownLatch acmeTransfer = new CountDownLatch(1);
    try {
      memory.held.put(IndexLayout.file("acme", V2, IndexLayout.shardFileName(0)), acmeTransfer);
      TinyVersions.publish(memory, "acme", V2, 2);
      TinyVersions.publish(memory, "globex", V2, 2);
      swapper.published("acme", Context.root());
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> budget.reserved() == 3 * oneVersion);
      swapper.published("globex", Context.root());
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> reads(memory, IndexLayout.manifest("globex", V2)) == 1);
      Thread.sleep(300);
      assertEquals(Optional.of(V1), indexes.servedVersion("globex"), "no room while acme's next version loads");

      acmeTransfer.countDown();
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> indexes.servedVersion("globex").equals(Optional.of(V2)));
      assertEquals(Optional.of(V2), indexes.servedVersion("acme"));
    } finally {
      acmeTransfer.countDown();
      swapper.close();
      memory.store.close();
    }
  }

  /** An Error in a load (out of memory) left the instance ready, serving what it may no longer track. */
  @Test
  void aLoadEndedByAnErrorMakesTheInstanceNotReady() throws Exception {
    MemoryStore memory = new MemoryStore();
    TinyVersions.publish(memory, "acme", V1, 2);
    PrometheusRegistry registry = new PrometheusRegistry();
    IndexSwapper swapper = new IndexSwapper(new IndexLoader(memory.store, null), new TenantIndexes(i -> { }),
        Duration.ofHours(1), registry, new Activity(registry), OpenTelemetry.noop().getTracer("test"), tenant -> true, 2);
    swapper.start();
    try {
      assertTrue(swapper.check().ok(), swapper.check().detail());
      memory.errors.put(IndexLayout.file("acme", V2, ""), new OutOfMemoryError("Java heap space (a test's)"));
      TinyVersions.publish(memory, "acme", V2, 2);
      swapper.published("acme", Context.root());
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !swapper.check().ok());
      assertTrue(String.valueOf(swapper.wedged()).startsWith("an index load died: java.lang.OutOfMemoryError"),
          String.valueOf(swapper.wedged()));
    } finally {
      swapper.close();
      memory.store.close();
    }
  }

  private static int reads(MemoryStore memory, String key) {
    java.util.concurrent.atomic.AtomicInteger n = memory.reads.get(key);
    return n == null ? 0 : n.get();
  }

  /** An Error in the periodic poll ended it without a word, and the instance stayed ready. */
  @Test
  void aPollEndedByAnErrorMakesTheInstanceNotReady(@TempDir Path scratch) throws Exception {
    AtomicInteger listings = new AtomicInteger();
    ObjectStore store = ScriptedS3.started("polled", (client, method, args) -> {
      if (!method.equals("listObjectsV2")) {
        throw new UnsupportedOperationException(method);
      }
      if (listings.incrementAndGet() > 1) {
        throw new OutOfMemoryError("Java heap space (a test's)");
      }
      return ListObjectsV2Response.builder().build();
    });
    PrometheusRegistry registry = new PrometheusRegistry();
    IndexSwapper swapper = new IndexSwapper(new IndexLoader(store, scratch), new TenantIndexes(i -> { }),
        Duration.ofMillis(50), registry, new Activity(registry), OpenTelemetry.noop().getTracer("test"));
    swapper.start();
    try {
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !swapper.check().ok());
      assertTrue(swapper.check().detail().contains("the index poll died: java.lang.OutOfMemoryError"),
          swapper.check().detail());
      assertTrue(String.valueOf(swapper.wedged()).startsWith("the index poll died"), "restarted: " + swapper.wedged());
    } finally {
      swapper.close();
      store.close();
    }
  }

  /**
   * A tenant's load failing at the start for the store (a 503 SlowDown past the SDK's retries) left
   * the instance ready without that tenant's index: a rolling update replaced every instance that
   * served it. Ready once a load succeeds, or finds nothing to serve.
   */
  @Test
  void anInstanceWhoseStartCouldNotLoadATenantForTheStoreIsNotReadyUntilALoadDoes(@TempDir Path scratch)
      throws Exception {
    AtomicBoolean storeFails = new AtomicBoolean(true);
    ObjectStore store = ScriptedS3.started("throttled", (client, method, args) -> {
      if (method.equals("listObjectsV2")) {
        return ListObjectsV2Response.builder()
            .commonPrefixes(CommonPrefix.builder().prefix("indexes/acme/").build()).build();
      }
      if (storeFails.get()) {
        throw SdkClientException.create("SlowDown (a test's)");
      }
      throw NoSuchKeyException.builder().statusCode(404).message("no such key").build();
    });
    PrometheusRegistry registry = new PrometheusRegistry();
    IndexSwapper swapper = new IndexSwapper(new IndexLoader(store, scratch), new TenantIndexes(i -> { }),
        Duration.ofMillis(50), registry, new Activity(registry), OpenTelemetry.noop().getTracer("test"));
    swapper.start();
    try {
      assertTrue(!swapper.check().ok() && swapper.check().detail().contains("not loaded since the start"),
          swapper.check().detail());
      storeFails.set(false); // the store answers: acme turns out to have nothing published yet
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> swapper.check().ok());
    } finally {
      swapper.close();
      store.close();
    }
  }
}
