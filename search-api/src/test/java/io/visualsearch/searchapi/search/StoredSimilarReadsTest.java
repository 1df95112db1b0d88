package io.visualsearch.searchapi.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.OpenTelemetry;
import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.IndexManifest;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Precomputed similar items against a store that does not answer. */
class StoredSimilarReadsTest {

  @Test
  void readsWaitingForAStuckStoreAreBoundedAndTheNextIsRefusedAtOnce() throws Exception {
    StuckStore stuckStore = new StuckStore();
    QueryService queries = queriesOver(stuckStore, "acme", "beta", "gamma");
    ExecutorService pages = Executors.newFixedThreadPool(QueryService.MAX_STORE_READS);
    try {
      // Two tenants at their share fill the store reads.
      for (int i = 0; i < QueryService.MAX_STORE_READS; i++) {
        String tenant = i < QueryService.MAX_STORE_READS_PER_TENANT ? "acme" : "beta";
        pages.submit(() -> queries.planSimilar(tenant, "sku", 5, Filters.NONE));
      }
      awaitReads(stuckStore, QueryService.MAX_STORE_READS);
      ApiException refused = assertTimeoutPreemptively(Duration.ofSeconds(10),
          () -> assertThrows(ApiException.class, () -> queries.planSimilar("gamma", "sku", 5, Filters.NONE)),
          "one more read is refused, not queued behind the stuck ones");
      assertEquals(503, refused.status());
      assertEquals("overloaded", refused.code());
      assertEquals(1, refused.retryAfterSeconds());
    } finally {
      release(stuckStore, pages);
    }
  }

  @Test
  void oneTenantsStuckReadsLeaveTheOtherTenantsTheirReads() throws Exception {
    StuckStore stuckStore = new StuckStore();
    QueryService queries = queriesOver(stuckStore, "acme", "beta");
    ExecutorService pages = Executors.newFixedThreadPool(QueryService.MAX_STORE_READS + 1);
    try {
      List<Future<?>> acme = new ArrayList<>();
      for (int i = 0; i < QueryService.MAX_STORE_READS; i++) {
        acme.add(pages.submit(() -> queries.planSimilar("acme", "sku", 5, Filters.NONE)));
      }
      awaitReads(stuckStore, QueryService.MAX_STORE_READS_PER_TENANT);
      int beyondShare = QueryService.MAX_STORE_READS - QueryService.MAX_STORE_READS_PER_TENANT;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (acme.stream().filter(Future::isDone).count() < beyondShare && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      List<Future<?>> refused = acme.stream().filter(Future::isDone).toList();
      assertEquals(beyondShare, refused.size(), "acme's reads beyond its share are refused at once");
      for (Future<?> f : refused) {
        ApiException e = refusal(f);
        assertEquals(503, e.status());
        assertEquals("tenant_overloaded", e.code());
        assertEquals(1, e.retryAfterSeconds());
      }
      assertEquals(QueryService.MAX_STORE_READS_PER_TENANT, stuckStore.reads.get());

      pages.submit(() -> queries.planSimilar("beta", "sku", 5, Filters.NONE));
      awaitReads(stuckStore, QueryService.MAX_STORE_READS_PER_TENANT + 1);
      assertEquals(QueryService.MAX_STORE_READS_PER_TENANT + 1, stuckStore.reads.get(),
          "beta's read reaches the store while acme's are stuck");
    } finally {
      release(stuckStore, pages);
    }
  }

  private static QueryService queriesOver(StuckStore stuckStore, String... tenants) {
    TenantIndexes indexes = new TenantIndexes(i -> { });
    for (String tenant : tenants) {
      IndexManifest m = new IndexManifest(IndexManifest.FORMAT, tenant, "v1", 0, "default", 1, "serving_default", 2,
          "cosine", "IDMap,Flat", 0, List.of(), null, Map.of());
      indexes.install(new LoadedIndex(m, List.of(), Map.of(), VectorSpace.of(Metric.INNER_PRODUCT, "cosine")));
    }
    return new QueryService(indexes, new TenantDeltas(), new CatalogView(), null, null, null, null,
        stuckStore.store, OpenTelemetry.noop().getTracer("test"));
  }

  private static void awaitReads(StuckStore stuckStore, int reads) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (stuckStore.reads.get() < reads && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(reads, stuckStore.reads.get());
  }

  private static ApiException refusal(Future<?> read) {
    ExecutionException e = assertThrows(ExecutionException.class, read::get);
    return assertInstanceOf(ApiException.class, e.getCause());
  }

  private static void release(StuckStore stuckStore, ExecutorService pages) throws InterruptedException {
    stuckStore.answers.countDown();
    pages.shutdown();
    assertTrue(pages.awaitTermination(30, TimeUnit.SECONDS));
    stuckStore.store.close();
  }
}
