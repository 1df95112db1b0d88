package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.catalogfeed.CatalogDiffer;
import io.visualsearch.catalogfeed.DeletionGuard;
import io.visualsearch.catalogfeed.FeedOptions;
import io.visualsearch.objectstore.FailingPutsStore;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreException;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.topics.Topics;
import io.visualsearch.tracing.Tracing;
import io.visualsearch.tracing.TracingSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Syncs that send their changes and end before saving the snapshot that records them, and the sync
 * after: state in the stack's object store (whose snapshot writes can be made to fail), feeds from a
 * local HTTP server that answers conditional GETs, catalog.products played by Kafka's MockProducer.
 */
@ExtendWith(StackExtension.class)
class ITUnfinishedSync {

  final Map<String, byte[]> feeds = new ConcurrentHashMap<>();
  final AtomicInteger failingSnapshotWrites = new AtomicInteger();
  /** Run once just before the next write of a source.json, i.e. after the snapshot's. */
  final java.util.concurrent.atomic.AtomicReference<Runnable> beforeSourceWrite = new java.util.concurrent.atomic.AtomicReference<>();
  final FailingProducer producer = new FailingProducer();
  final Activity activity = new Activity(new PrometheusRegistry());
  final List<AutoCloseable> cleanup = new ArrayList<>();
  String feedBase;
  ObjectStore store;

  @BeforeEach
  void start(EmbeddedStack stack) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", ITCatalogDownloader.conditionalFeeds(feeds));
    server.start();
    cleanup.add(() -> server.stop(0));
    feedBase = "http://127.0.0.1:" + server.getAddress().getPort();
    store = snapshotWritesCanFail(stack);
    cleanup.add(store::close);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : cleanup) {
      c.close();
    }
  }

  /** The stack's store, except that the next {@link #failingSnapshotWrites} snapshot writes fail. */
  ObjectStore snapshotWritesCanFail(EmbeddedStack stack) {
    return FailingPutsStore.over(ObjectStoreSettings.definition().parse(stack.serviceEnvironment()), put -> {
      if (put.key().endsWith("/source.json")) {
        Runnable before = beforeSourceWrite.getAndSet(null);
        if (before != null) {
          before.run();
        }
      }
      return put.key().endsWith("/snapshot.bin") && failingSnapshotWrites.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
    });
  }

  CatalogSync sync(FeedOptions options) {
    return sync(options, new java.util.concurrent.Semaphore(1));
  }

  CatalogSync sync(FeedOptions options, java.util.concurrent.Semaphore diffs) {
    return sync(options, diffs, new SyncLeases(store, "it-" + System.nanoTime()));
  }

  CatalogSync sync(FeedOptions options, java.util.concurrent.Semaphore diffs, SyncLeases leases) {
    Tracing tracing = Tracing.create(CatalogDownloaderService.NAME, "it",
        TracingSettings.definition().parse(Map.of("ZIPKIN_ENDPOINT", "none")));
    cleanup.add(tracing::close);
    FeedFetcher fetcher = new FeedFetcher(Duration.ofMinutes(1), 1 << 20, bucket -> {
      throw new UnsupportedOperationException("feeds come over HTTP here");
    }, FeedFetcherTest.LOCAL);
    return new CatalogSync(fetcher, new CatalogDiffer(options, new DeletionGuard(0.5, 5)),
        new CatalogStateStore(store), () -> producer, new RecordSizeLimit(RecordSizeLimit.KAFKA_DEFAULT_MAX_REQUEST_BYTES),
        tracing, activity, leases, producer::live, diffs);
  }

  FeedLocation serve(String tenant, String... rows) {
    feeds.put("/" + tenant + ".tsv", feed(rows));
    return new FeedLocation(tenant, URI.create(feedBase + "/" + tenant + ".tsv"));
  }

  /** A Merchant TSV feed of the products named, in that order; "id:bad" is a row without a valid price. */
  static byte[] feed(String... rows) {
    StringBuilder sb = new StringBuilder("id\ttitle\tlink\timage_link\tprice\n");
    for (String row : rows) {
      String id = row.replace(":bad", "");
      sb.append(id).append("\tShirt ").append(id).append("\thttps://shop.example/").append(id)
          .append("\thttps://img.example/").append(id).append(".jpg\t")
          .append(row.endsWith(":bad") ? "free" : "10.00 USD").append('\n');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** What the last syncs sent, as "upsert t/id", "tombstone t/id" or "dead-letter t/id"; then forgets it. */
  List<String> sent() {
    List<String> sent = producer.history().stream().map(r -> (!r.topic().equals(Topics.CATALOG_PRODUCTS.name())
        ? "dead-letter " : r.value() == null ? "tombstone " : "upsert ") + new String(r.key(), StandardCharsets.UTF_8))
        .toList();
    producer.clear();
    return sent;
  }

  boolean pendingStored(String tenant) {
    return store.exists("catalog/" + tenant + "/pending.bin");
  }

  /**
   * Syncs of several tenants run at once, but a diff holds both snapshots of a catalog in the heap:
   * one sync diffs while the others wait with their feeds downloaded.
   */
  @Test
  void aDownloadedFeedWaitsForAnotherTenantsDiffBeforeItsOwn() throws Exception {
    java.util.concurrent.Semaphore diffs = new java.util.concurrent.Semaphore(1);
    CatalogSync sync = sync(FeedOptions.defaults(), diffs);
    String t = "unfinished-gated";
    FeedLocation feed = serve(t, "A", "B");
    diffs.acquire(); // another tenant's diff in hand
    java.util.concurrent.CompletableFuture<SyncReport> report = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return sync.run(feed, n -> { });
      } catch (IOException | InterruptedException e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    });
    try {
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(diffs::hasQueuedThreads);
      assertEquals(List.of(), sent(), "nothing diffed nor sent while the other diff runs");
      assertFalse(report.isDone());
    } finally {
      diffs.release();
    }
    assertEquals(SyncReport.Status.APPLIED, report.get(30, java.util.concurrent.TimeUnit.SECONDS).status());
    assertEquals(List.of("upsert " + t + "/A", "upsert " + t + "/B"), sent());
    assertEquals(1, diffs.availablePermits(), "given back");
  }

  /**
   * A sync waiting for another tenant's diff may lose its lease meanwhile (minutes behind large
   * catalogs; a store only it cannot reach): the sync that took the tenant over has written its
   * pending ids, which the waiting one, once let in, overwrote with its own before its first send
   * noticed the loss. Had the taker then died before its snapshot, what it sent was tracked nowhere.
   */
  @Test
  void aSyncThatLostItsLeaseWhileWaitingForADiffWritesNothing() throws Exception {
    java.util.concurrent.Semaphore diffs = new java.util.concurrent.Semaphore(0);
    String owner = "it-lost-" + System.nanoTime();
    CatalogSync sync = sync(FeedOptions.defaults(), diffs,
        new SyncLeases(store, owner, Duration.ofMillis(1200), java.time.Clock.systemUTC()));
    String t = "unfinished-lost-waiting";
    FeedLocation feed = serve(t, "A", "B");
    java.util.concurrent.CompletableFuture<Throwable> ended = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        sync.run(feed, n -> { });
        return null;
      } catch (Exception e) {
        return e;
      }
    });
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(diffs::hasQueuedThreads);
    // The same owner's next run (this instance restarted, as it were) takes the lease at once.
    try (SyncLeases.Lease taker = new SyncLeases(store, owner).acquire(t)) {
      byte[] theirs = io.visualsearch.catalogfeed.PendingIds.empty().toBytes();
      store.put("catalog/" + t + "/pending.bin", theirs, "application/octet-stream");
      Thread.sleep(1000); // past the waiting sync's next renewals, which find the lease taken
      diffs.release();
      assertTrue(ended.get(30, java.util.concurrent.TimeUnit.SECONDS) instanceof SyncLeases.LostException,
          "the waiting sync stops");
      org.junit.jupiter.api.Assertions.assertArrayEquals(theirs,
          store.get("catalog/" + t + "/pending.bin").orElseThrow().bytes(), "the taker's pending ids stand");
      assertEquals(List.of(), sent());
    }
  }

  @Test
  void aSyncOfATenantAnotherSyncHoldsIsBusyAndChangesNothing() throws Exception {
    CatalogSync sync = sync(FeedOptions.defaults());
    String t = "unfinished-busy";
    try (SyncLeases.Lease oneShotJob = new SyncLeases(store, "one-shot-job").acquire(t)) {
      SyncReport busy = sync.run(serve(t, "A"), n -> { });
      assertEquals(SyncReport.Status.BUSY, busy.status());
      assertEquals(List.of(), sent(), "nothing sent beside the running sync");
      assertFalse(store.exists("catalog/" + t + "/last-sync.json"), "the running sync's report is the one kept");
    }
    assertEquals(SyncReport.Status.APPLIED, sync.run(serve(t, "A"), n -> { }).status());
    assertEquals(List.of("upsert " + t + "/A"), sent());
  }

  /**
   * A sync stalled on a slow store past its lease; another instance took the tenant over and wrote
   * its own pending ids before sending. The stalled sync, finishing, deleted them: had the other
   * one then died before its snapshot, what it sent would have been tracked nowhere.
   */
  @Test
  void aSyncFinishingLateLeavesThePendingIdsAnotherSyncWroteSince() throws Exception {
    CatalogSync sync = sync(FeedOptions.defaults());
    String t = "unfinished-late";
    byte[] theirs = io.visualsearch.catalogfeed.PendingIds.empty().toBytes();
    beforeSourceWrite.set(() -> store.put("catalog/" + t + "/pending.bin", theirs, "application/octet-stream"));
    assertEquals(SyncReport.Status.APPLIED, sync.run(serve(t, "A", "B"), n -> { }).status());
    assertTrue(pendingStored(t), "the other sync's pending ids are its own to clear");
    org.junit.jupiter.api.Assertions.assertArrayEquals(theirs,
        store.get("catalog/" + t + "/pending.bin").orElseThrow().bytes());

    // Its own pending ids, as it wrote them, a sync clears.
    store.delete("catalog/" + t + "/pending.bin");
    assertEquals(SyncReport.Status.APPLIED, sync.run(serve(t, "A", "B", "C"), n -> { }).status());
    assertFalse(pendingStored(t));
  }

  @Test
  void aProductNewInASyncThatEndedBeforeSavingItsSnapshotIsTombstonedWhenItLeavesTheFeed() throws Exception {
    CatalogSync sync = sync(FeedOptions.defaults());
    String t = "unfinished-ghost";
    failingSnapshotWrites.set(1);
    assertThrows(ObjectStoreException.class, () -> sync.run(serve(t, "A", "X"), n -> { }));
    assertEquals(List.of("upsert " + t + "/A", "upsert " + t + "/X"), sent(), "sent, acknowledged, not recorded");

    SyncReport next = sync.run(serve(t, "A"), n -> { });
    assertEquals(SyncReport.Status.APPLIED, next.status());
    assertEquals(List.of("upsert " + t + "/A", "tombstone " + t + "/X"), sent(),
        "X never was in a saved snapshot, yet the topic has it");
    assertEquals(1, next.reconciled());
    assertFalse(pendingStored(t), "reconciled and recorded in the snapshot: nothing left pending");

    assertEquals(SyncReport.Status.NOT_MODIFIED, sync.run(serve(t, "A"), n -> { }).status());
    assertEquals(List.of(), sent());
  }

  @Test
  void aProductTombstonedInASyncThatEndedBeforeSavingItsSnapshotIsUpsertedWhenItComesBack() throws Exception {
    CatalogSync sync = sync(FeedOptions.defaults());
    String t = "unfinished-lost";
    assertEquals(SyncReport.Status.APPLIED, sync.run(serve(t, "A", "Y"), n -> { }).status());
    assertEquals(List.of("upsert " + t + "/A", "upsert " + t + "/Y"), sent());
    failingSnapshotWrites.set(1);
    assertThrows(ObjectStoreException.class, () -> sync.run(serve(t, "A"), n -> { }));
    assertEquals(List.of("tombstone " + t + "/Y"), sent());

    // Y is back as the saved snapshot has it (other rows' order, so the download is not skipped as unchanged).
    SyncReport next = sync.run(serve(t, "Y", "A"), n -> { });
    assertEquals(SyncReport.Status.APPLIED, next.status());
    assertEquals(List.of("upsert " + t + "/Y"), sent(), "the snapshot says unchanged, the topic has a tombstone");
    assertEquals(1, next.reconciled());
    assertEquals(1, next.unchanged());
    assertFalse(pendingStored(t));
  }

  @Test
  void aFailedSendLeavesItsSyncsChangesToTheNextSyncEvenWhenTheFeedIsBackToWhatWasLastDownloaded()
      throws Exception {
    CatalogSync sync = sync(FeedOptions.defaults());
    String t = "unfinished-send";
    assertEquals(SyncReport.Status.APPLIED, sync.run(serve(t, "A", "Y"), n -> { }).status());
    sent();
    producer.failing = t + "/Y";
    assertThrows(IOException.class, () -> sync.run(serve(t, "A", "X"), n -> { }));
    assertEquals(List.of("upsert " + t + "/X", "tombstone " + t + "/Y"), sent(), "X acknowledged, Y refused");
    producer.failing = null;

    // The very bytes of the last applied download: a conditional GET would answer 304 and skip the sync.
    SyncReport next = sync.run(serve(t, "A", "Y"), n -> { });
    assertEquals(SyncReport.Status.APPLIED, next.status());
    assertEquals(List.of("upsert " + t + "/Y", "tombstone " + t + "/X"), sent());
    assertEquals(2, next.reconciled());
    assertFalse(pendingStored(t));
    assertEquals(SyncReport.Status.NOT_MODIFIED, sync.run(serve(t, "A", "Y"), n -> { }).status());
  }

  /**
   * A tenant's snapshot lost (a bucket restored from an older copy, an operator's clean-up):
   * diffed against nothing, the products that left the feed since stayed in the topic, and
   * searchable, for good. The topic says what consumers hold: each id is sent again.
   */
  @Test
  void aLostSnapshotIsRebuiltFromWhatTheTopicHolds() throws Exception {
    CatalogSync sync = sync(FeedOptions.defaults());
    String t = "unfinished-snapshot-lost";
    appliedThenSnapshotLost(sync, t);

    SyncReport next = sync.run(serve(t, "A", "B", "C", "D", "E", "G"), n -> { });
    assertEquals(SyncReport.Status.APPLIED, next.status());
    List<String> sent = sent();
    assertTrue(sent.contains("tombstone " + t + "/F"), "F left the feed while the snapshot was lost: " + sent);
    assertTrue(sent.contains("upsert " + t + "/G"), sent.toString());
    assertEquals(7, sent.size(), "the feed's six sent again, F tombstoned: " + sent);
    assertEquals(Set.of("A", "B", "C", "D", "E", "G"), producer.live(t));
    assertTrue(store.exists("catalog/" + t + "/snapshot.bin"), "recorded again");

    // An unreadable snapshot is a lost one: it stopped every sync of the tenant before.
    store.put("catalog/" + t + "/snapshot.bin", "not a snapshot".getBytes(StandardCharsets.UTF_8),
        "application/octet-stream");
    assertEquals(SyncReport.Status.APPLIED, sync.run(serve(t, "A", "B", "C", "D", "E"), n -> { }).status());
    assertTrue(sent().contains("tombstone " + t + "/G"));
    assertEquals(Set.of("A", "B", "C", "D", "E"), producer.live(t));
    assertEquals(SyncReport.Status.NOT_MODIFIED, sync.run(serve(t, "A", "B", "C", "D", "E"), n -> { }).status());
  }

  /** Products A to F applied and sent, then the tenant's snapshot deleted. */
  void appliedThenSnapshotLost(CatalogSync sync, String t) throws Exception {
    assertEquals(SyncReport.Status.APPLIED, sync.run(serve(t, "A", "B", "C", "D", "E", "F"), n -> { }).status());
    sent();
    store.delete("catalog/" + t + "/snapshot.bin");
  }

  /** The recovered ids are the catalog the deletion guard protects: a truncated feed is still refused. */
  @Test
  void aTruncatedFeedIsRefusedWhenTheSnapshotIsLost() throws Exception {
    CatalogSync sync = sync(FeedOptions.defaults());
    String t = "unfinished-snapshot-lost-guard";
    appliedThenSnapshotLost(sync, t);
    SyncReport truncated = sync.run(serve(t, "A", "B"), n -> { });
    assertEquals(SyncReport.Status.REFUSED, truncated.status());
    assertEquals(List.of("dead-letter " + t + "/"), sent(), "nothing applied");
    assertEquals(Set.of("A", "B", "C", "D", "E", "F"), producer.live(t));
  }

  @Test
  void everyRejectedRowIsDeadLetteredNotOnlyTheOnesTheReportLists() throws Exception {
    CatalogSync sync = sync(new FeedOptions(null, 1 << 20, 1 << 20, 2));
    String t = "unfinished-dlq";
    SyncReport report = sync.run(serve(t, "A", "b1:bad", "b2:bad", "b3:bad", "b4:bad", "b5:bad"), n -> { });
    assertEquals(SyncReport.Status.APPLIED, report.status());
    assertEquals(5, report.rejectedRows());
    assertEquals(2, report.rowErrors().size(), "the report lists the first ones");
    assertEquals(List.of("upsert " + t + "/A", "dead-letter " + t + "/b1", "dead-letter " + t + "/b2",
        "dead-letter " + t + "/b3", "dead-letter " + t + "/b4", "dead-letter " + t + "/b5"), sent());
  }

  /**
   * A rejected row's dead letter was counted as it was sent: one the broker refused was reported
   * dead-lettered, and again by every retry of the sync, though none was written.
   */
  @Test
  void aRejectedRowIsCountedDeadLetteredOnlyOnceItsLetterIsWritten() throws Exception {
    CatalogSync sync = sync(FeedOptions.defaults());
    String t = "unfinished-dlq-refused";
    producer.failing = t + "/b2";
    assertThrows(java.io.IOException.class, () -> sync.run(serve(t, "A", "b1:bad", "b2:bad", "b3:bad"), n -> { }));
    assertEquals(2, activity.deadLettered(), "b1 and b3 were written, b2 was refused");
  }

  /**
   * Completes sends when flushed, except those of the key {@link #failing}, which the broker refuses;
   * keeps what catalog.products would hold after compaction, {@link #clear()} or not.
   */
  static final class FailingProducer extends MockProducer<byte[], byte[]> {
    volatile String failing;
    private int completed;
    private final java.util.Set<String> topic = new java.util.TreeSet<>();

    synchronized java.util.Set<String> live(String tenant) {
      return topic.stream().filter(k -> k.startsWith(tenant + "/")).map(k -> k.substring(tenant.length() + 1))
          .collect(java.util.stream.Collectors.toSet());
    }

    FailingProducer() {
      super(false, null, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @Override
    public synchronized void flush() {
      List<ProducerRecord<byte[], byte[]>> sent = history();
      while (completed < sent.size()) {
        ProducerRecord<byte[], byte[]> r = sent.get(completed++);
        if (new String(r.key(), StandardCharsets.UTF_8).equals(failing)) {
          errorNext(new NotEnoughReplicasException("not enough in-sync replicas (injected)"));
        } else {
          completeNext();
          if (r.topic().equals(Topics.CATALOG_PRODUCTS.name())) {
            String key = new String(r.key(), StandardCharsets.UTF_8);
            if (r.value() == null) {
              topic.remove(key);
            } else {
              topic.add(key);
            }
          }
        }
      }
    }

    @Override
    public synchronized void clear() {
      super.clear();
      completed = 0;
    }
  }
}
