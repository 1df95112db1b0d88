package io.visualsearch.searchapi.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.OpenTelemetry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.Sha256;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.searchapi.MemoryStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every replica loaded a large tenant's new version beside the served one at once, passed its
 * container's memory limit and was killed, and each restart loaded every tenant again: a version
 * whose shards do not fit the native memory allowed beside what is loaded is not loaded.
 */
class NativeMemoryBudgetTest {

  private static final String V1 = "20240101T000000Z-v1";
  private static final String V2 = "20240102T000000Z-v2";
  private static final String V3 = "20240103T000000Z-v3";

  private final MemoryStore memory = new MemoryStore();
  private final IndexJson json = new IndexJson();
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Activity activity = new Activity(registry);
  private final TenantIndexes indexes = new TenantIndexes(i -> { });

  @AfterEach
  void free() {
    indexes.close();
    memory.store.close();
  }

  /** Publishes {@code version} of {@code tenant}: one IDMap,Flat shard of two 2-d vectors (all versions alike in size). */
  private IndexManifest publish(String tenant, String version) throws Exception {
    return publish(tenant, version, 2);
  }

  /** As {@link #publish(String, String)}, with {@code count} 2-d vectors. */
  private IndexManifest publish(String tenant, String version, int count) throws Exception {
    return TinyVersions.publish(memory, tenant, version, count);
  }

  private IndexSwapper swapper(NativeMemoryBudget budget) {
    // A 1 ms poll interval: the back-off after a refusal is a few milliseconds.
    return new IndexSwapper(new IndexLoader(memory.store, null, budget), indexes, Duration.ofMillis(1), registry,
        activity, OpenTelemetry.noop().getTracer("test"));
  }

  private double counter(String name) {
    for (MetricSnapshot m : registry.scrape()) {
      if (m.getMetadata().getName().equals(name) && m instanceof CounterSnapshot c) {
        return c.getDataPoints().get(0).getValue();
      }
    }
    return 0;
  }

  @Test
  void aVersionThatDoesNotFitBesideTheServedOneIsNotLoadedAndTheTenantKeepsItsVersion() throws Exception {
    long size = NativeMemoryBudget.needed(publish("acme", V1));
    NativeMemoryBudget budget = new NativeMemoryBudget(size + size / 2, "a test's");
    IndexSwapper swapper = swapper(budget);
    assertEquals(Optional.of(V1), swapper.refresh("acme"));
    assertEquals(size, budget.reserved());

    publish("acme", V2);
    assertEquals(Optional.of(V1), swapper.refresh("acme"), "the served version stays");
    assertEquals(size, budget.reserved(), "nothing of v2 is held");
    String detail = swapper.check().detail();
    assertTrue(swapper.check().ok(), "still ready: it serves v1");
    assertTrue(detail.contains("acme/" + V2) && detail.contains("native memory") && detail.contains("a test's")
        && detail.contains("SEARCH_NATIVE_MEMORY_BYTES"), detail);
    assertEquals(1, activity.errors());
    assertEquals(1, counter("search_index_native_memory_refused"));
    assertEquals(0, counter("search_index_refused"), "not refused as corrupt: retried");
  }

  @Test
  void aVersionsMemoryIsGivenBackOnceTheLastQueryLeasingItIsDone() throws Exception {
    long size = NativeMemoryBudget.needed(publish("acme", V1));
    NativeMemoryBudget budget = new NativeMemoryBudget(2 * size, "a test's");
    IndexSwapper swapper = swapper(budget);
    assertEquals(Optional.of(V1), swapper.refresh("acme"));

    // A query still searches v1 when v2 is swapped in: v1's memory is held until it is done.
    IndexLease query = indexes.acquire("acme").orElseThrow();
    publish("acme", V2);
    assertEquals(Optional.of(V2), swapper.refresh("acme"), "two versions fit");
    assertEquals(2 * size, budget.reserved());

    publish("acme", V3);
    assertEquals(Optional.of(V2), swapper.refresh("acme"), "v1 (leased), v2 and v3 would not fit");
    assertEquals(2 * size, budget.reserved());

    query.close();
    assertEquals(size, budget.reserved(), "v1 freed, its memory given back");
    // Retried with the back-off: v3 fits beside v2 now.
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> swapper.refresh("acme").equals(Optional.of(V3)));
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> budget.reserved() == size);
  }

  @Test
  void atTheStartATenantThatDoesNotFitIsNotServedAndTheInstanceIsNotReady() throws Exception {
    long size = NativeMemoryBudget.needed(publish("acme", V1));
    publish("globex", V1);
    NativeMemoryBudget budget = new NativeMemoryBudget(size, "a test's");
    IndexSwapper swapper = swapper(budget);
    swapper.start();
    try {
      assertEquals(Optional.of(V1), indexes.servedVersion("acme"));
      assertEquals(Optional.empty(), indexes.servedVersion("globex"));
      // Ready, it would take globex's queries and answer none: a rolling update onto pods that
      // cannot hold every tenant would replace every pod that served it. Unready, it waits, and
      // stays so through the polls of its back-off.
      Awaitility.await().atMost(Duration.ofSeconds(30))
          .until(() -> counter("search_index_native_memory_refused") >= 3);
      assertFalse(swapper.check().ok());
      assertTrue(swapper.check().detail().contains("over the native memory allowed"), swapper.check().detail());
      assertTrue(swapper.check().detail().contains("globex/" + V1), swapper.check().detail());
    } finally {
      swapper.close();
    }
  }

  /**
   * A tenant whose index alone is larger than the whole allowance can never be loaded here: held
   * unready for it, the instance served none of the other tenants, and a fresh deployment of
   * equally sized replicas was a full outage. It is left unserved, said so, and the rest is served.
   */
  @Test
  void aTenantLargerThanTheWholeAllowanceIsLeftOutWithoutHoldingTheOthersUnready() throws Exception {
    long small = NativeMemoryBudget.needed(publish("acme", V1));
    long large = NativeMemoryBudget.needed(publish("globex", V1, 4096));
    assertTrue(large > 2 * small, large + " vs " + small);
    NativeMemoryBudget budget = new NativeMemoryBudget(large - 1, "a test's");
    IndexSwapper swapper = swapper(budget);
    swapper.start();
    try {
      assertEquals(Optional.of(V1), indexes.servedVersion("acme"));
      assertEquals(Optional.empty(), indexes.servedVersion("globex"));
      Awaitility.await().atMost(Duration.ofSeconds(30))
          .until(() -> counter("search_index_native_memory_refused") >= 2);
      assertTrue(swapper.check().ok(), swapper.check().detail());
      assertTrue(swapper.check().detail().contains("globex") && swapper.check().detail().contains("never"),
          swapper.check().detail());
    } finally {
      swapper.close();
    }
  }

  @Test
  void theAllowanceIsTheMachinesMemoryLessTheHeapAndTheJvmsOwnOrUncheckedWhenThatLeavesNothing() {
    long gib = 1L << 30;
    NativeMemoryBudget derived = NativeMemoryBudget.derived(4 * gib, gib);
    assertEquals(3 * gib - NativeMemoryBudget.JVM_OWN_BYTES, derived.bytesAllowed());
    assertTrue(derived.basis().contains("4096 MiB"), derived.basis());

    NativeMemoryBudget nothingLeft = NativeMemoryBudget.derived(gib, gib);
    assertEquals("unchecked", nothingLeft.basis());
    assertEquals(Long.MAX_VALUE, nothingLeft.bytesAllowed());
    assertFalse(NativeMemoryBudget.of(12_345).basis().equals("unchecked"));
    assertEquals(12_345, NativeMemoryBudget.of(12_345).bytesAllowed());
  }
}
