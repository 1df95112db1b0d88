package io.visualsearch.searchapi.search;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.visualsearch.searchapi.TestVectors;
import io.visualsearch.searchapi.embed.QueryEmbedder;
import io.visualsearch.searchapi.fresh.CatalogView;
import io.visualsearch.searchapi.fresh.DeltaEntry;
import io.visualsearch.searchapi.fresh.ProductInfo;
import io.visualsearch.searchapi.fresh.TenantDeltas;
import io.visualsearch.searchapi.image.QueryImageDecoder;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.searchapi.index.TenantIndexes;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A query answers from the version it leased and that version's fresh delta, whatever swaps meanwhile. */
class SwapDuringQueryTest {

  private final Tracer tracer = OpenTelemetry.noop().getTracer("test");
  private final CatalogView catalog = new CatalogView();
  private final TenantDeltas deltas = new TenantDeltas();
  private final TenantIndexes indexes = new TenantIndexes(deltas::rebase);

  @AfterEach
  void free() {
    indexes.close();
  }

  @Test
  void aSwapWhileTheQueryIsEmbeddedDoesNotTakeTheLeasedVersionsFreshVectorsAway() throws Exception {
    for (String sku : List.of("changed", "other")) {
      catalog.upsert("acme", new ProductInfo(sku, sku, 1, "USD", "https://shop/" + sku, "https://img/" + sku, "Shoes",
          "Acme", "in stock"));
    }
    catalog.markCaughtUp();
    // v1 was built before "changed" got a new picture; the follower holds the new vector (offset 15).
    indexes.install(TestVectors.index("acme", "v1", 1, vectors(new float[] {1, 0}), 1, Map.of(0, 10L)));
    deltas.of("acme").accept(new DeltaEntry("changed", 0, 15, "default", 1, new float[] {0, 1}, 0));
    LoadedIndex v2 = TestVectors.index("acme", "v2", 1, vectors(new float[] {0, 1}), 1, Map.of(0, 20L));
    boolean[] swapped = {false};
    QueryEmbedder embedder = (image, version, signature, variant) -> {
      if (!swapped[0]) {
        // v2, built past offset 15, is installed while the model embeds the photo: adopting it drops
        // the delta's record, which v1 lacks.
        indexes.install(v2);
        swapped[0] = true;
      }
      return new QueryEmbedder.QueryVector(new float[] {0, 1}, "default", 1, "serving_default");
    };
    QueryService service = new QueryService(indexes, deltas, catalog, new QueryImageDecoder(1_000_000, 512), embedder,
        new IndexSearcher(catalog, tracer, 1000, 20_000), null, null, tracer);

    SearchAnswer during = service.search("acme", photo()).answer();
    assertEquals("v1", during.indexVersion());
    assertEquals("changed", during.hits().get(0).sku(), "v1's old vector of the product answered instead of its new one");
    assertEquals(1.0, during.hits().get(0).score(), 1e-6);

    SearchAnswer after = service.search("acme", photo()).answer();
    assertEquals("v2", after.indexVersion());
    assertEquals("changed", after.hits().get(0).sku());
    assertEquals(1.0, after.hits().get(0).score(), 1e-6);
  }

  /** "changed" at the given vector; "other" close to the query, but less than the new picture. */
  private static Map<String, float[]> vectors(float[] changed) {
    Map<String, float[]> v = new LinkedHashMap<>();
    v.put("changed", changed);
    v.put("other", new float[] {0.6f, 0.8f});
    return v;
  }

  private static SearchQuery photo() throws Exception {
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", png);
    return new SearchQuery(png.toByteArray(), 5, null, Filters.NONE);
  }
}
