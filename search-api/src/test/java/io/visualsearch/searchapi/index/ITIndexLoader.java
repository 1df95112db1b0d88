package io.visualsearch.searchapi.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.api.OpenTelemetry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.CorruptIndexException;
import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.Sha256;
import io.visualsearch.indexformat.ShardVectors;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.searchapi.TestVectors;
import io.visualsearch.searchapi.fresh.CatalogView;
import io.visualsearch.searchapi.fresh.FreshDelta;
import io.visualsearch.searchapi.fresh.ProductInfo;
import io.visualsearch.searchapi.search.Filters;
import io.visualsearch.searchapi.search.IndexSearcher;
import io.visualsearch.searchapi.search.SearchAnswer;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader against the real S3 server: a quantised version's exact vectors, as the index-builder
 * publishes them; the swapper refusing a corrupt version.
 */
@ExtendWith(StackExtension.class)
class ITIndexLoader {

  static final String TENANT = "it-loader";
  static final int DIM = 16;
  final IndexJson json = new IndexJson();

  @Test
  void quantisedShardsLoadWithTheirExactVectorsVerifiedAndLeaveNoFileBehind(EmbeddedStack stack,
      @TempDir Path work, @TempDir Path scratch) throws Exception {
    Map<String, float[]> vectors = TestVectors.random(400, DIM, 5);
    try (ObjectStore store = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(stack.serviceEnvironment()),
        true)) {
      store.start();
      String good = "20261205T060000Z-a";
      publish(store, good, vectors, work, false);
      TenantIndexes owner = new TenantIndexes(i -> { });
      try {
        LoadedIndex index = new IndexLoader(store, scratch).load(TENANT, good);
        owner.install(index);
        ShardVectors exact = index.exactVectors(0);
        assertNotNull(exact);
        float[] row = new float[DIM];
        for (Map.Entry<String, float[]> e : vectors.entrySet()) {
          assertTrue(exact.read(SkuIds.id(TENANT, e.getKey()), row));
          assertArrayEquals(e.getValue(), row, e.getKey());
        }
        try (Stream<Path> left = Files.list(scratch)) {
          assertEquals(List.of(), left.toList(), "the downloaded file is unlinked once open");
        }
        CatalogView catalog = new CatalogView();
        catalog.markCaughtUp();
        vectors.keySet().forEach(sku -> catalog.upsert(TENANT, new ProductInfo(sku,
            sku, 1, "USD", "", "", "", "", "in stock")));
        FreshDelta delta = new FreshDelta();
        delta.rebase(index);
        SearchAnswer a = new IndexSearcher(catalog, TracerProvider.noop().get("it"), 4096, 20_000)
            .search(index, delta.snapshot(index), vectors.get("sku-17"), 3, Filters.NONE, null);
        assertEquals("sku-17", a.hits().get(0).sku());
        assertEquals(1.0, a.hits().get(0).score(), 1e-5, "rescored on the exact vector: its own cosine is 1");

        LoadedIndex codesOnly = new IndexLoader(store).load(TENANT, good);
        assertNull(codesOnly.exactVectors(0), "a loader without scratch space leaves the vectors in the store");
        owner.install(codesOnly);
        LoadedIndex shardsOnly = IndexLoader.shardsOnly(store, scratch).load(TENANT, good);
        assertNull(shardsOnly.exactVectors(0), "the similar-items job rescoring from its own vectors too");
        assertEquals(vectors.size(), shardsOnly.skuCount());
        shardsOnly.release();

        // A rebuild whose vectors did not change (a periodic retraining) shares the open file; a
        // rebuild with other vectors downloads its own.
        String rebuilt = "20261205T060002Z-c";
        publish(store, rebuilt, vectors, work, false);
        LoadedIndex again = new IndexLoader(store, scratch).load(TENANT, rebuilt, index);
        assertSame(index.exactVectors(0), again.exactVectors(0), "same sha256: the served file is shared");
        Map<String, float[]> changed = TestVectors.random(400, DIM, 6);
        String other = "20261205T060003Z-d";
        publish(store, other, changed, work, false);
        LoadedIndex different = new IndexLoader(store, scratch).load(TENANT, other, again);
        assertNotSame(again.exactVectors(0), different.exactVectors(0));
        // The version that downloaded the shared file is released; the one sharing it still reads it.
        owner.install(again);
        assertTrue(index.isFreed());
        assertTrue(again.exactVectors(0).read(SkuIds.id(TENANT, "sku-17"), row));
        assertArrayEquals(vectors.get("sku-17"), row);
        owner.install(different);
        assertTrue(again.isFreed());
        assertTrue(different.exactVectors(0).read(SkuIds.id(TENANT, "sku-17"), row));
        assertArrayEquals(changed.get("sku-17"), row);
      } finally {
        owner.close();
      }

      String corrupt = "20261205T060001Z-b";
      publish(store, corrupt, vectors, work, true);
      CorruptIndexException e = assertThrows(CorruptIndexException.class,
          () -> new IndexLoader(store, scratch).load(TENANT, corrupt));
      assertTrue(e.getMessage().contains("shard-000.vectors") && e.getMessage().contains("sha256"), e.getMessage());
      try (Stream<Path> left = Files.list(scratch)) {
        assertEquals(List.of(), left.toList(), "a refused download is not left behind");
      }
    }
  }

  @Test
  void theSwapperRefusesACorruptVersionOnceKeepsServingAndTakesTheNextGoodOne(EmbeddedStack stack,
      @TempDir Path work, @TempDir Path scratch) throws Exception {
    Map<String, float[]> vectors = TestVectors.random(200, DIM, 7);
    PrometheusRegistry registry = new PrometheusRegistry();
    try (ObjectStore store = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(stack.serviceEnvironment()),
        true)) {
      store.start();
      Activity activity = new Activity(registry);
      IndexSwapper swapper = new IndexSwapper(new IndexLoader(store, scratch), new TenantIndexes(i -> { }),
          Duration.ofHours(1), registry, activity, OpenTelemetry.noop().getTracer("test"));
      try {
        String first = "20261205T070000Z-a";
        publish(store, first, vectors, work, false);
        assertEquals(Optional.of(first), swapper.refresh(TENANT));
        assertEquals("ok", swapper.check().detail());

        // Other vectors: with the same ones the served file's sha256 would match and be shared unread.
        String corrupt = "20261205T070001Z-b";
        publish(store, corrupt, TestVectors.random(200, DIM, 8), work, true);
        assertEquals(Optional.of(first), swapper.refresh(TENANT), "the served version stays when the next is corrupt");
        assertEquals(1, counter(registry, "search_index_refused"));
        assertTrue(swapper.check().ok(), "a refused version does not make the service unready");
        assertEquals(1, activity.errors(), "so the health page is where it shows");
        assertTrue(swapper.check().detail().contains("refused index of " + TENANT), swapper.check().detail());

        // Polls while CURRENT still names the refused version neither download nor refuse it again.
        assertEquals(Optional.of(first), swapper.refresh(TENANT));
        assertEquals(1, counter(registry, "search_index_refused"));

        String fixed = "20261205T070002Z-c";
        publish(store, fixed, vectors, work, false);
        assertEquals(Optional.of(fixed), swapper.refresh(TENANT), "the refusal is of one version, not of the tenant");
        assertEquals(2, counter(registry, "search_index_swaps"));
        assertEquals(2, activity.handled(), "each installed version is activity");
        assertEquals("ok", swapper.check().detail());
      } finally {
        swapper.close();
      }
    }
  }

  /**
   * A version that cannot be loaded for a reason of this instance (here its scratch directory is a
   * file) is not downloaded again at every poll and event, only after a backoff; a newer version
   * is tried at once.
   */
  @Test
  void aVersionThatFailsToLoadHereIsTriedAgainOnlyAfterABackoff(EmbeddedStack stack, @TempDir Path work)
      throws Exception {
    Map<String, float[]> vectors = TestVectors.random(50, DIM, 9);
    PrometheusRegistry registry = new PrometheusRegistry();
    Path notADirectory = Files.writeString(work.resolve("scratch-file"), "in the way");
    try (ObjectStore store = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(stack.serviceEnvironment()),
        true)) {
      store.start();
      IndexSwapper swapper = new IndexSwapper(new IndexLoader(store, notADirectory), new TenantIndexes(i -> { }),
          Duration.ofHours(1), registry, new Activity(registry), OpenTelemetry.noop().getTracer("test"));
      try {
        publish(store, "20261205T080000Z-a", vectors, work, false);
        assertEquals(Optional.empty(), swapper.refresh(TENANT));
        assertEquals(1, counter(registry, "search_index_refused"));
        assertEquals(Optional.empty(), swapper.refresh(TENANT));
        assertEquals(1, counter(registry, "search_index_refused"), "not loaded again within the backoff");
        publish(store, "20261205T080001Z-b", vectors, work, false);
        assertEquals(Optional.empty(), swapper.refresh(TENANT));
        assertEquals(2, counter(registry, "search_index_refused"), "a newer version is tried at once");
      } finally {
        swapper.close();
      }
    }
  }

  private static double counter(PrometheusRegistry registry, String name) {
    for (MetricSnapshot s : registry.scrape()) {
      if (s.getMetadata().getName().equals(name)) {
        return ((CounterSnapshot) s).getDataPoints().get(0).getValue();
      }
    }
    throw new AssertionError("no counter " + name);
  }

  /** One product-quantised shard, its exact vectors (one byte flipped after hashing when {@code corrupt}), CURRENT. */
  private void publish(ObjectStore store, String version, Map<String, float[]> vectors, Path work, boolean corrupt)
      throws Exception {
    TreeMap<Long, String> byId = new TreeMap<>();
    vectors.keySet().forEach(sku -> byId.put(SkuIds.id(TENANT, sku), sku));
    long[] ids = byId.keySet().stream().mapToLong(Long::longValue).toArray();
    float[] rows = new float[ids.length * DIM];
    StringBuilder tsv = new StringBuilder();
    for (int i = 0; i < ids.length; i++) {
      System.arraycopy(vectors.get(byId.get(ids[i])), 0, rows, i * DIM, DIM);
      tsv.append(ids[i]).append('\t').append(byId.get(ids[i])).append('\n');
    }
    byte[] shard;
    try (FaissIndex index = FaissIndex.create(DIM, "IVF1,PQ8x4np", Metric.L2)) {
      index.train(rows);
      index.addWithIds(rows, ids);
      shard = index.serialize();
    }
    Path file = work.resolve(version + ".vectors");
    ShardVectors.write(file, ids, rows, DIM);
    String sha = Sha256.hex(file);
    long bytes = Files.size(file);
    if (corrupt) {
      byte[] b = Files.readAllBytes(file);
      b[b.length - 1] ^= 1;
      Files.write(file, b);
    }
    store.put(IndexLayout.file(TENANT, version, "shard-000.faiss"), shard, "application/octet-stream");
    store.put(IndexLayout.file(TENANT, version, "shard-000.vectors"), file, "application/octet-stream");
    byte[] skus = tsv.toString().getBytes(StandardCharsets.UTF_8);
    store.put(IndexLayout.file(TENANT, version, "skus.tsv"), skus, "text/tab-separated-values");
    List<IndexManifest.ShardFile> shards = new ArrayList<>();
    shards.add(new IndexManifest.ShardFile("shard-000.faiss", ids.length, shard.length, Sha256.hex(shard),
        new IndexManifest.IndexFile("shard-000.vectors", bytes, sha)));
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, TENANT, version, System.currentTimeMillis(), "default", 1,
        "serving_default", DIM, "cosine", "IVF1,PQ8x4np", ids.length, shards,
        new IndexManifest.IndexFile("skus.tsv", skus.length, Sha256.hex(skus)), Map.of(), "nprobe=1", null);
    store.put(IndexLayout.manifest(TENANT, version), json.write(m), "application/json");
    store.put(IndexLayout.currentPointer(TENANT), json.write(new CurrentPointer(version,
        IndexLayout.manifest(TENANT, version), 1, System.currentTimeMillis())), "application/json");
  }
}
