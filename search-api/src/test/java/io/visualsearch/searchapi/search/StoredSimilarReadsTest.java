package io.visualsearch.searchapi.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.OpenTelemetry;
import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.StuckStore;
import io.visualsearch.searchapi.fresh.CatalogView;
import io.visualsearch.searchapi.fresh.TenantDeltas;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.searchapi.index.TenantIndexes;
import io.visualsearch.searchapi.index.VectorSpace;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Precomputed similar items against a store that does not answer. */
class StoredSimilarReadsTest {

  @Test
  void readsWaitingForAStuckStoreAreBoundedAndTheNextIsRefusedAtOnce() throws Exception {
    StuckStore stuckStore = new StuckStore();
    CountDownLatch storeAnswers = stuckStore.answers;
    AtomicInteger waiting = stuckStore.reads;
    ObjectStore store = stuckStore.store;
    TenantIndexes indexes = new TenantIndexes(i -> { });
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, "acme", "v1", 0, "default", 1, "serving_default", 2,
        "cosine", "IDMap,Flat", 0, List.of(), null, Map.of());
    indexes.install(new LoadedIndex(m, List.of(), Map.of(), VectorSpace.of(Metric.INNER_PRODUCT, "cosine")));
    QueryService queries = new QueryService(indexes, new TenantDeltas(), new CatalogView(), null, null, null, null,
        store, OpenTelemetry.noop().getTracer("test"));

    ExecutorService pages = Executors.newFixedThreadPool(QueryService.MAX_STORE_READS);
    List<Future<?>> stuck = new ArrayList<>();
    try {
      for (int i = 0; i < QueryService.MAX_STORE_READS; i++) {
        stuck.add(pages.submit(() -> queries.planSimilar("acme", "sku", 5)));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (waiting.get() < QueryService.MAX_STORE_READS && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(QueryService.MAX_STORE_READS, waiting.get());
      ApiException refused = assertTimeoutPreemptively(Duration.ofSeconds(10),
          () -> assertThrows(ApiException.class, () -> queries.planSimilar("acme", "sku", 5)),
          "one more read is refused, not queued behind the stuck ones");
      assertEquals(503, refused.status());
      assertEquals("overloaded", refused.code());
    } finally {
      storeAnswers.countDown();
      pages.shutdown();
      assertTrue(pages.awaitTermination(30, TimeUnit.SECONDS));
      store.close();
    }
  }
}
