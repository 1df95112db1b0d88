package io.visualsearch.searchapi.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.embed.QueryEmbedder;
import io.visualsearch.searchapi.fresh.CatalogView;
import io.visualsearch.searchapi.fresh.TenantDeltas;
import io.visualsearch.searchapi.image.QueryImageDecoder;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.searchapi.index.TenantIndexes;
import io.visualsearch.searchapi.index.VectorSpace;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** A query vector searches only an index of its own model: version and signature. */
class QueryModelCheckTest {

  private final Tracer tracer = OpenTelemetry.noop().getTracer("test");

  private QueryService service(String querySignature) {
    return service(1, querySignature);
  }

  private QueryService service(long queryModelVersion, String querySignature) {
    return service(queryModelVersion, querySignature, null, null);
  }

  /** What the service asked the embedder for: the index's signature and variant. */
  private final List<String> asked = new java.util.ArrayList<>();

  private QueryService service(long queryModelVersion, String querySignature, String queryVariant,
      String indexVariant) {
    return service("default", queryModelVersion, querySignature, queryVariant, indexVariant);
  }

  private QueryService service(String queryModel, long queryModelVersion, String querySignature, String queryVariant,
      String indexVariant) {
    TenantIndexes indexes = new TenantIndexes(i -> { });
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, "acme", "v1", 0, "default", 1, "serving_default", 2,
        "cosine", "IDMap,Flat", 0, List.of(), null, Map.of(), null, null, indexVariant);
    indexes.install(new LoadedIndex(m, List.of(), Map.of(), VectorSpace.of(Metric.INNER_PRODUCT, "cosine")));
    CatalogView catalog = new CatalogView();
    QueryEmbedder embedder = (image, version, signature, variant) -> {
      asked.add(signature + " " + variant);
      return new QueryEmbedder.QueryVector(new float[] {1, 0}, queryModel, queryModelVersion, querySignature,
          queryVariant);
    };
    return new QueryService(indexes, new TenantDeltas(), catalog, new QueryImageDecoder(1_000_000, 512), embedder,
        new IndexSearcher(catalog, tracer, 1000, 20_000), null, null, tracer);
  }

  private static SearchQuery photo() throws Exception {
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", png);
    return new SearchQuery(png.toByteArray(), 5, null, Filters.NONE);
  }

  @Test
  void aQueryIsEmbeddedWithTheIndexsModelNotTheConfiguredOne() throws Exception {
    // A deployment moving to another model: this tenant's index is already of the new one.
    TenantIndexes indexes = new TenantIndexes(i -> { });
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, "acme", "v1", 0, "resnet50", 1, "serving_default", 2,
        "cosine", "IDMap,Flat", 0, List.of(), null, Map.of(), null, null, null);
    indexes.install(new LoadedIndex(m, List.of(), Map.of(), VectorSpace.of(Metric.INNER_PRODUCT, "cosine")));
    CatalogView catalog = new CatalogView();
    QueryEmbedder embedder = new QueryEmbedder() {
      @Override
      public QueryVector embed(java.awt.image.BufferedImage image, long version, String signature, String variant) {
        return embed(image, "default", version, signature, variant);
      }

      @Override
      public QueryVector embed(java.awt.image.BufferedImage image, String modelName, long version, String signature,
          String variant) {
        asked.add(modelName);
        return new QueryVector(new float[] {1, 0}, modelName, version, signature, variant);
      }
    };
    QueryService service = new QueryService(indexes, new TenantDeltas(), catalog,
        new QueryImageDecoder(1_000_000, 512), embedder, new IndexSearcher(catalog, tracer, 1000, 20_000), null, null, tracer);
    service.search("acme", photo());
    assertEquals(List.of("resnet50"), asked);
  }

  @Test
  void aQueryOfAnotherSignatureOfTheIndexModelVersionIsRefusedNotCompared() throws Exception {
    ApiException e = assertThrows(ApiException.class, () -> service("mixed7").search("acme", photo()));
    assertEquals(503, e.status());
    assertEquals("model_index_mismatch", e.code());
    assertTrue(e.getMessage().contains("mixed7") && e.getMessage().contains("serving_default"), e.getMessage());
  }

  @Test
  void aQueryEmbeddedByAnotherModelVersionIsRefusedNotCompared() throws Exception {
    // The model server rolled to version 2 while the tenant's index is still of version 1.
    ApiException e = assertThrows(ApiException.class, () -> service(2, "serving_default").search("acme", photo()));
    assertEquals(503, e.status());
    assertEquals("model_index_mismatch", e.code());
    assertTrue(e.getMessage().contains("version 2") && e.getMessage().contains("version 1"), e.getMessage());
  }

  @Test
  void aQueryEmbeddedByAnotherModelOfTheSameVersionNumberIsRefusedNotCompared() throws Exception {
    // search-api still names "default" while the catalog was re-embedded with a model "clip", whose
    // versions start at 1 again and whose vectors have the same dimension.
    ApiException e = assertThrows(ApiException.class,
        () -> service("clip", 1, "serving_default", null, null).search("acme", photo()));
    assertEquals(503, e.status());
    assertEquals("model_index_mismatch", e.code());
    assertTrue(e.getMessage().contains("'clip'") && e.getMessage().contains("'default'"), e.getMessage());
  }

  @Test
  void theQueryIsEmbeddedAsTheIndexVariantSaysAndAnotherVariantIsRefusedNotCompared() throws Exception {
    String indexVariant = "serving_default.embedding.224px.as-is";
    assertEquals(List.of(), service(1, "serving_default", indexVariant, indexVariant).search("acme", photo())
        .answer().hits());
    assertEquals(List.of("serving_default " + indexVariant), asked, "asked for the index's own variant");
    // An embedder that could not do as asked (it could not read the name) and used another size.
    ApiException e = assertThrows(ApiException.class, () -> service(1, "serving_default",
        "serving_default.embedding.299px.as-is", indexVariant).search("acme", photo()));
    assertEquals(503, e.status());
    assertEquals("model_index_mismatch", e.code());
    assertTrue(e.getMessage().contains("299px") && e.getMessage().contains("224px"), e.getMessage());
    // An index from before variants were recorded takes any.
    assertEquals(List.of(), service(1, "serving_default", "serving_default.embedding.299px.as-is", null)
        .search("acme", photo()).answer().hits());
  }

  @Test
  void aQueryOfTheIndexSignatureIsSearched() throws Exception {
    assertEquals(List.of(), service("serving_default").search("acme", photo()).answer().hits());
  }
}
