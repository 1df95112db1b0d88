package io.visualsearch.searchapi.index;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.visualsearch.searchapi.TestVectors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

class TenantIndexesTest {

  private static LoadedIndex version(String v) {
    return TestVectors.index("t1", v, 1, TestVectors.random(50, 8, v.hashCode()), 2, Map.of());
  }

  @Test
  void aRetiredVersionIsFreedOnlyWhenItsLastQueryFinishes() {
    List<String> installed = new ArrayList<>();
    TenantIndexes indexes = new TenantIndexes(i -> installed.add(i.version()));
    LoadedIndex v1 = version("20250101T000000Z-a");
    LoadedIndex v2 = version("20250102T000000Z-b");
    indexes.install(v1);
    IndexLease inFlight = indexes.acquire("t1").orElseThrow();
    indexes.install(v2);

    assertEquals("20250102T000000Z-b", indexes.servedVersion("t1").orElseThrow());
    assertFalse(v1.isFreed(), "v1 freed while a query still searches it");
    // The in-flight query can still search the retired version's native index.
    assertEquals(25, inFlight.index().shards().get(0).ntotal());
    inFlight.close();
    assertTrue(v1.isFreed());
    assertFalse(v2.isFreed());
    assertEquals(List.of("20250101T000000Z-a", "20250102T000000Z-b"), installed);
    indexes.close();
    assertTrue(v2.isFreed());
  }

  @Test
  void aLoadFinishingAfterCloseIsFreedNotInstalled() {
    // The swapper waits a bounded time for its load at shutdown; one still reading from the store
    // ends afterwards and installs, and nothing would ever release its native shards.
    List<String> installed = new ArrayList<>();
    TenantIndexes indexes = new TenantIndexes(i -> installed.add(i.version()));
    indexes.close();
    LoadedIndex late = version("20250103T000000Z-c");
    indexes.install(late);

    assertTrue(late.isFreed());
    assertTrue(indexes.acquire("t1").isEmpty());
    assertEquals(List.of(), installed);
  }

  @Test
  void reinstallingTheServedVersionReleasesTheDuplicate() {
    TenantIndexes indexes = new TenantIndexes(i -> { });
    LoadedIndex v1 = version("20250101T000000Z-a");
    LoadedIndex again = version("20250101T000000Z-a");
    indexes.install(v1);
    indexes.install(again);
    assertTrue(again.isFreed());
    assertFalse(v1.isFreed());
    indexes.close();
  }

  @Test
  void queriesRacingSwapsNeverSeeAFreedIndex() throws Exception {
    TenantIndexes indexes = new TenantIndexes(i -> { });
    indexes.install(version("20250101T000000Z-v0"));
    AtomicBoolean stop = new AtomicBoolean();
    // Queries by the version their lease held: a version with queries was served while they ran.
    Map<String, AtomicInteger> queriesOf = new ConcurrentHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> workers = new ArrayList<>();
    float[] q = TestVectors.unit(new java.util.Random(1), 8);
    for (int w = 0; w < 3; w++) {
      workers.add(pool.submit(() -> {
        while (!stop.get()) {
          try (IndexLease lease = indexes.acquire("t1").orElseThrow()) {
            // Throws IllegalStateException if the native index had been closed under us.
            lease.index().shards().forEach(s -> s.search(q, 5));
            queriesOf.computeIfAbsent(lease.index().version(), v -> new AtomicInteger()).incrementAndGet();
          }
        }
        return null;
      }));
    }
    // Every swap happens under running queries: the first once the workers are searching, each
    // next one once queries have leased the version just installed.
    awaitQueries(workers, () -> count(queriesOf, "20250101T000000Z-v0") >= 20);
    List<LoadedIndex> versions = new ArrayList<>();
    for (int v = 1; v <= 40; v++) {
      LoadedIndex next = version(String.format("20250101T0000%02dZ-v%d", v, v));
      versions.add(next);
      indexes.install(next);
      awaitQueries(workers, () -> count(queriesOf, next.version()) >= 3);
    }
    stop.set(true);
    for (Future<?> f : workers) {
      f.get(30, TimeUnit.SECONDS);
    }
    pool.shutdown();
    for (LoadedIndex v : versions) {
      assertTrue(count(queriesOf, v.version()) >= 3, v.version() + " was never searched while served");
    }
    // Every retired version has been freed; only the last one is still served.
    for (int i = 0; i < versions.size() - 1; i++) {
      assertTrue(versions.get(i).isFreed(), "version " + i + " leaked");
    }
    assertEquals(1, versions.get(versions.size() - 1).references());
    indexes.close();
  }

  private static int count(Map<String, AtomicInteger> queriesOf, String version) {
    AtomicInteger n = queriesOf.get(version);
    return n == null ? 0 : n.get();
  }

  /** Waits until {@code reached}, or rethrows the failure of a worker that stopped querying. */
  private static void awaitQueries(List<Future<?>> workers, BooleanSupplier reached) throws Exception {
    await().atMost(Duration.ofSeconds(60)).until(
        () -> reached.getAsBoolean() || workers.stream().anyMatch(Future::isDone));
    for (Future<?> f : workers) {
      if (f.isDone()) {
        f.get();
        fail("a query worker stopped while swaps were still running");
      }
    }
  }
}
