package io.visualsearch.searchapi.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.searchapi.TestVectors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
    AtomicInteger queries = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> workers = new ArrayList<>();
    float[] q = TestVectors.unit(new java.util.Random(1), 8);
    for (int w = 0; w < 3; w++) {
      workers.add(pool.submit(() -> {
        while (!stop.get()) {
          try (IndexLease lease = indexes.acquire("t1").orElseThrow()) {
            // Throws IllegalStateException if the native index had been closed under us.
            lease.index().shards().forEach(s -> s.search(q, 5));
            queries.incrementAndGet();
          }
        }
        return null;
      }));
    }
    List<LoadedIndex> versions = new ArrayList<>();
    for (int v = 1; v <= 40; v++) {
      LoadedIndex next = version(String.format("20250101T0000%02dZ-v%d", v, v));
      versions.add(next);
      indexes.install(next);
      Thread.sleep(2);
    }
    stop.set(true);
    for (Future<?> f : workers) {
      f.get(30, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertTrue(queries.get() > 0);
    // Every retired version has been freed; only the last one is still served.
    for (int i = 0; i < versions.size() - 1; i++) {
      assertTrue(versions.get(i).isFreed(), "version " + i + " leaked");
    }
    assertEquals(1, versions.get(versions.size() - 1).references());
    indexes.close();
  }
}
