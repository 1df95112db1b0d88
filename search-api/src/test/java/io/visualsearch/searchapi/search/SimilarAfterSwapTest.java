package io.visualsearch.searchapi.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.visualsearch.searchapi.MemoryStore;
import io.visualsearch.searchapi.TestVectors;
import io.visualsearch.searchapi.fresh.CatalogView;
import io.visualsearch.searchapi.fresh.DeltaEntry;
import io.visualsearch.searchapi.fresh.ProductInfo;
import io.visualsearch.searchapi.fresh.TenantDeltas;
import io.visualsearch.searchapi.index.TenantIndexes;
import io.visualsearch.searchapi.similar.SimilarItemsFile;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A product whose picture changed is answered from its new picture all along: live while its
 * vector is in the delta, live still once a new version took that vector (its precomputed files
 * are of the old picture until response-consumer writes the new version's), then from the files.
 */
class SimilarAfterSwapTest {

  private final Tracer tracer = OpenTelemetry.noop().getTracer("test");
  private final ObjectMapper json = new ObjectMapper();
  private final CatalogView catalog = new CatalogView();
  private final TenantDeltas deltas = new TenantDeltas();
  private final TenantIndexes indexes = new TenantIndexes(deltas::rebase);
  private final MemoryStore memory = new MemoryStore();
  private final QueryService service = new QueryService(indexes, deltas, catalog, null, null,
      new IndexSearcher(catalog, tracer, 1000), null, memory.store, tracer);

  @AfterEach
  void free() {
    indexes.close();
    memory.store.close();
  }

  @Test
  void aChangedPicturesSimilarItemsStayLiveUntilItsNewVersionsFilesAreWritten() throws Exception {
    for (String sku : List.of("changed", "near-new", "near-old", "added")) {
      catalog.upsert("acme", new ProductInfo(sku, sku, 1, "USD", "https://shop/" + sku, "https://img/" + sku, "Shoes",
          "Acme", "in stock"));
    }
    catalog.markCaughtUp();
    // v1: "changed" shows its old picture, close to near-old; its files say so.
    indexes.install(TestVectors.index("acme", "v1", 1, vectors(new float[] {1, 0}, false), 1, Map.of(0, 10L)));
    file("changed", "v1", "near-old", "near-new");
    // The new picture (close to near-new) and a new product arrive in the delta.
    deltas.of("acme").accept(new DeltaEntry("changed", 0, 15, "default", 1, new float[] {0, 1}, 0));
    deltas.of("acme").accept(new DeltaEntry("added", 0, 16, "default", 1, new float[] {0.28f, 0.96f}, 0));
    SearchAnswer inDelta = similar("changed");
    assertEquals("added", inDelta.hits().get(0).sku(), inDelta.toString());

    // v2 takes both vectors; response-consumer has not written v2's files yet.
    indexes.install(TestVectors.index("acme", "v2", 1, vectors(new float[] {0, 1}, true), 1, Map.of(0, 20L)));
    SearchAnswer afterSwap = similar("changed");
    assertEquals("v2", afterSwap.indexVersion(), "searched live on v2, not read from v1's files");
    assertEquals("added", afterSwap.hits().get(0).sku(), afterSwap.hits().toString());
    assertEquals("v2", similar("added").indexVersion(), "a new product is answered before its first file exists");

    // v2's files are written: read, not searched.
    file("changed", "v2", "near-new", "added");
    assertEquals(List.of("near-new", "added"), similar("changed").hits().stream().map(SearchHit::sku).toList());
    assertTrue(service.storedSimilar("acme", "changed", 5).isPresent());
  }

  /** What the HTTP and gRPC handlers do: the file when it is current, else a live search. */
  private SearchAnswer similar(String sku) {
    return service.storedSimilar("acme", sku, 5).orElseGet(() -> service.liveSimilar("acme", sku, 5));
  }

  private void file(String sku, String version, String... neighbours) throws Exception {
    List<SimilarItemsFile.Item> items = new java.util.ArrayList<>();
    float score = 0.9f;
    for (String n : neighbours) {
      items.add(new SimilarItemsFile.Item(n, score));
      score -= 0.1f;
    }
    memory.objects.put(SimilarItemsFile.key("acme", sku),
        json.writeValueAsBytes(new SimilarItemsFile("acme", sku, version, 1, 1L, items)));
  }

  private static Map<String, float[]> vectors(float[] changed, boolean withAdded) {
    Map<String, float[]> v = new LinkedHashMap<>();
    v.put("changed", changed);
    // Unit vectors, as a cosine index stores them.
    v.put("near-new", new float[] {0.6f, 0.8f});
    v.put("near-old", new float[] {0.8f, 0.6f});
    if (withAdded) {
      v.put("added", new float[] {0.28f, 0.96f});
    }
    return v;
  }
}
