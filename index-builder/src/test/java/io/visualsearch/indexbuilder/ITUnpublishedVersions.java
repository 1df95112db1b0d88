package io.visualsearch.indexbuilder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.objectstore.FailingPutsStore;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.KafkaClients;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.tracing.TracingSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Versions that were never published do not stay in the bucket: a build whose upload fails
 * part-way deletes what it wrote (each retry names a new version), and collection deletes an
 * unfinished version older than CURRENT instead of keeping it among the versions to roll back to.
 * Against the real S3 server and broker.
 */
@ExtendWith(StackExtension.class)
class ITUnpublishedVersions {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private final IndexJson json = new IndexJson();

  /** The stack's store, except that manifest writes fail while {@code failManifests} is set. */
  private static ObjectStore store(EmbeddedStack stack, AtomicBoolean failManifests) {
    return store(stack, "/manifest.json", failManifests);
  }

  /** The stack's store, except that writes of keys ending {@code failing} fail while {@code fail} is set. */
  private static ObjectStore store(EmbeddedStack stack, String failing, AtomicBoolean fail) {
    return FailingPutsStore.over(ObjectStoreSettings.definition().parse(stack.serviceEnvironment()),
        put -> put.key().endsWith(failing) && fail.get());
  }

  private static KafkaClients clients(EmbeddedStack stack) {
    return new KafkaClients(KafkaSettings.definition().include(TracingSettings.definition())
        .parse(stack.serviceEnvironment()));
  }

  private static TreeSet<String> versions(ObjectStore store, String tenant) {
    return StoredVersions.of(store, tenant);
  }


  @Test
  void aBuildWhoseUploadFailsLeavesNoPartialVersionBehind(EmbeddedStack stack) throws Exception {
    String tenant = "it-unpublished-upload";
    AtomicBoolean failManifests = new AtomicBoolean(true);
    KafkaClients clients = clients(stack);
    try (ObjectStore store = store(stack, failManifests);
        var producer = clients.producer("it-unpublished");
        Builder b = new Builder(store, clients, "it-unpublished", () -> producer)) {
      b.apply(tenant, 0, 3);
      b.schedule.changed(tenant, System.currentTimeMillis());
      b.scheduler.start();
      // Two failed attempts, each having uploaded its shards and maps before the manifest failed.
      await().atMost(WAIT).until(() -> b.builds("failed") >= 2);
      assertEquals(Set.of(), versions(store, tenant), "each failed attempt deleted what it had uploaded");

      failManifests.set(false);
      await().atMost(WAIT).until(() -> b.builds("published") == 1);
      String published = json.pointer(store.get(IndexLayout.currentPointer(tenant)).orElseThrow().bytes()).version();
      assertEquals(Set.of(published), versions(store, tenant));
    }
  }

  /**
   * A flip that fails may still be applied by the store (an answer lost, a write abandoned at its
   * timeout): the version it named is left whole, or CURRENT could name a deleted version.
   */
  @Test
  void aVersionWhoseFlipFailedIsLeftWhole(EmbeddedStack stack) throws Exception {
    String tenant = "it-unpublished-flip";
    AtomicBoolean failFlips = new AtomicBoolean(true);
    KafkaClients clients = clients(stack);
    try (ObjectStore store = store(stack, "/CURRENT", failFlips);
        var producer = clients.producer("it-unpublished-flip");
        Builder b = new Builder(store, clients, "it-unpublished-flip", () -> producer)) {
      b.apply(tenant, 0, 3);
      b.schedule.changed(tenant, System.currentTimeMillis());
      b.scheduler.start();
      await().atMost(WAIT).until(() -> b.builds("failed") >= 1);
      failFlips.set(false);
      TreeSet<String> left = versions(store, tenant);
      assertFalse(left.isEmpty(), "the version of the failed flip is kept");
      for (String v : left) {
        // Had the store applied that write after all, CURRENT would name a whole version.
        assertTrue(store.exists(IndexLayout.manifest(tenant, v)), v);
      }
    }
  }

  @Test
  void collectionDeletesAnUnfinishedVersionInsteadOfKeepingItForARollback(EmbeddedStack stack) throws Exception {
    String tenant = "it-unpublished-collect";
    AtomicBoolean never = new AtomicBoolean(false);
    try (ObjectStore store = store(stack, never)) {
      IndexVersions names = new IndexVersions();
      Instant now = Instant.now();
      String unfinished = names.next(now.minusSeconds(300));
      String rollback = names.next(now.minusSeconds(200));
      String abandoned = names.next(now.minusSeconds(150));
      String current = names.next(now.minusSeconds(100));
      for (String v : List.of(unfinished, rollback, abandoned, current)) {
        store.put(IndexLayout.file(tenant, v, "shard-000.faiss"), new byte[] {1, 2, 3}, "application/octet-stream");
      }
      for (String v : List.of(rollback, current)) {
        store.put(IndexLayout.manifest(tenant, v), "{}".getBytes(), "application/json");
      }
      store.put(IndexLayout.currentPointer(tenant), json.write(new CurrentPointer(current,
          IndexLayout.manifest(tenant, current), 1, 0)), "application/json");
      // A day's retention and ten older versions kept: only what can never be served goes.
      VersionCollector collector = new VersionCollector(store, new RetentionPolicy(Duration.ofDays(1), 10));
      assertEquals(List.of(unfinished, abandoned), collector.collect(tenant, current, null, null, now));
      assertEquals(Set.of(rollback, current), versions(store, tenant));
    }
  }
}
