package io.visualsearch.searchapi.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
      new IndexSearcher(catalog, tracer, 1000, 20_000), null, memory.store, tracer);

  @AfterEach
  void free() {
    indexes.close();
    memory.store.close();
  }

  @Test
  void aChangedPicturesSimilarItemsStayLiveUntilItsNewVersionsFilesAreWritten() throws Exception {
    catalogOfFourProducts();
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
    assertFalse(service.planSimilar("acme", "changed", 5, Filters.NONE).live());
  }

  @Test
  void moreItemsThanTheFileHoldsAreSearchedLiveFromTheFilesVector() throws Exception {
    catalogOfFourProducts();
    indexes.install(TestVectors.index("acme", "v1", 1, vectors(new float[] {1, 0}, true), 1, Map.of(0, 10L)));
    // Precomputed with SIMILAR_ITEMS_K = 1, with the product's own vector.
    putFile(new SimilarItemsFile("acme", "changed", "v1", 1, 1L, List.of(new SimilarItemsFile.Item("near-old", 0.96f)),
        null, SimilarItemsFile.encode(new float[] {1, 0})));
    QueryService.SimilarPlan one = service.planSimilar("acme", "changed", 1, Filters.NONE);
    assertFalse(one.live(), "the file holds what is asked");
    QueryService.SimilarPlan three = service.planSimilar("acme", "changed", 3, Filters.NONE);
    assertTrue(three.live());
    SearchAnswer live = service.liveSimilar("acme", "changed", 3, Filters.NONE, three);
    assertEquals(List.of("near-old", "near-new", "added"), live.hits().stream().map(SearchHit::sku).toList(),
        "by cosine to (1, 0), the product itself left out");

    // A file of another model version than the index served: its vector is not compared with it.
    putFile(new SimilarItemsFile("acme", "changed", "v0", 7, 1L, List.of(new SimilarItemsFile.Item("near-old", 0.96f)),
        null, SimilarItemsFile.encode(new float[] {1, 0})));
    QueryService.SimilarPlan otherModel = service.planSimilar("acme", "changed", 3, Filters.NONE);
    assertEquals(List.of("near-old"), service.liveSimilar("acme", "changed", 3, Filters.NONE, otherModel).hits().stream()
        .map(SearchHit::sku).toList(), "the file's own answer, as before");
  }

  @Test
  void aFilesVectorIsSearchedLiveOnlyInTheSpaceOfItsOwnModel() throws Exception {
    catalogOfFourProducts();
    // The served index: model "default" version 1. Files computed from an earlier index ("v0").
    indexes.install(TestVectors.index("acme", "v1", 1, vectors(new float[] {1, 0}, true), 1, Map.of(0, 10L)));
    List<SimilarItemsFile.Item> one = List.of(new SimilarItemsFile.Item("near-old", 0.96f));
    String vector = SimilarItemsFile.encode(new float[] {1, 0});

    // Another model whose versions also start at 1, same dimension: its vector means nothing here.
    putFile(new SimilarItemsFile("acme", "changed", "v0", 1, 1L, one, null, vector, "catalog-clip"));
    assertEquals(List.of("near-old"), liveSkus(), "the file's own answer");
    // A file naming no model, of another index: which model it was is not known.
    putFile(new SimilarItemsFile("acme", "changed", "v0", 1, 1L, one, null, vector));
    assertEquals(List.of("near-old"), liveSkus(), "the file's own answer");
    // The same model, or the served index itself, even from a file naming no model: searched live.
    putFile(new SimilarItemsFile("acme", "changed", "v0", 1, 1L, one, null, vector, "default"));
    assertEquals(List.of("near-old", "near-new", "added"), liveSkus());
    putFile(new SimilarItemsFile("acme", "changed", "v1", 1, 1L, one, null, vector));
    assertEquals(List.of("near-old", "near-new", "added"), liveSkus());
  }

  /** A product page showing only what can be bought: the file's items that match, else a filtered live search. */
  @Test
  void filteredSimilarItemsSkipTheFilesItemsThatDoNotMatchAndSearchLiveWhenTooFewAreLeft() throws Exception {
    catalogOfFourProducts();
    catalog.upsert("acme", new ProductInfo("near-old", "near-old", 1, "USD", "", "", "Shoes", "Acme", "out_of_stock"));
    indexes.install(TestVectors.index("acme", "v1", 1, vectors(new float[] {1, 0}, true), 1, Map.of(0, 10L)));
    putFile(new SimilarItemsFile("acme", "changed", "v1", 1, 1L, List.of(new SimilarItemsFile.Item("near-old", 0.96f),
        new SimilarItemsFile.Item("near-new", 0.8f), new SimilarItemsFile.Item("added", 0.28f)), null,
        SimilarItemsFile.encode(new float[] {1, 0})));
    Filters inStock = new Filters(null, null, null, "in_stock", null);

    QueryService.SimilarPlan two = service.planSimilar("acme", "changed", 2, inStock);
    assertFalse(two.live(), "two of the file's three are in stock");
    assertEquals(List.of("near-new", "added"), two.file().hits().stream().map(SearchHit::sku).toList());
    assertEquals(List.of("near-old", "near-new"), service.planSimilar("acme", "changed", 2, Filters.NONE).file().hits()
        .stream().map(SearchHit::sku).toList(), "unfiltered, as before");

    // Three in stock asked, two left in the file: searched live, filtered, from the file's vector.
    catalog.upsert("acme", new ProductInfo("extra", "extra", 1, "USD", "", "", "Shoes", "Acme", "in stock"));
    deltas.of("acme").accept(new DeltaEntry("extra", 0, 11, "default", 1, new float[] {0.96f, 0.28f}, 0));
    QueryService.SimilarPlan three = service.planSimilar("acme", "changed", 3, inStock);
    assertTrue(three.live());
    assertEquals(List.of("extra", "near-new", "added"), service.liveSimilar("acme", "changed", 3, inStock, three).hits()
        .stream().map(SearchHit::sku).toList(), "by cosine to (1, 0), near-old out of stock");
  }

  private List<String> liveSkus() {
    QueryService.SimilarPlan plan = service.planSimilar("acme", "changed", 3, Filters.NONE);
    assertTrue(plan.live(), "more asked than the file holds");
    return service.liveSimilar("acme", "changed", 3, Filters.NONE, plan).hits().stream().map(SearchHit::sku).toList();
  }

  private void catalogOfFourProducts() {
    for (String sku : List.of("changed", "near-new", "near-old", "added")) {
      catalog.upsert("acme", new ProductInfo(sku, sku, 1, "USD", "https://shop/" + sku, "https://img/" + sku, "Shoes",
          "Acme", "in stock"));
    }
    catalog.markCaughtUp();
  }

  /** What the HTTP and gRPC handlers do: the file when it is current, else a live search. */
  private SearchAnswer similar(String sku) {
    QueryService.SimilarPlan plan = service.planSimilar("acme", sku, 5, Filters.NONE);
    return plan.live() ? service.liveSimilar("acme", sku, 5, Filters.NONE, plan) : plan.file();
  }

  private void putFile(SimilarItemsFile file) throws Exception {
    memory.objects.put(SimilarItemsFile.key("acme", file.sku()), json.writeValueAsBytes(file));
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
