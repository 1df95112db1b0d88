package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.faiss.Metric;
import org.junit.jupiter.api.Test;

class IndexRecipeTest {

  private static IndexRecipe choose(int n, int d) {
    return IndexRecipe.choose(n, d, 20_000, 2_000_000, null, 16, 64);
  }

  @Test
  void smallCatalogsAreSearchedExactly() {
    IndexRecipe r = choose(19_999, 768);
    assertEquals("IDMap,Flat", r.factory());
    assertEquals(0, r.trainingSize());
    assertNull(r.searchParameters());
  }

  @Test
  void midSizeCatalogsGetAGraphOverAProjectionRescoredOnTheFullVectors() {
    for (int n : new int[] {20_000, 300_000, 1_999_999}) {
      IndexRecipe r = choose(n, 768);
      assertEquals("IDMap,PCA128,HNSW16,RFlat", r.factory(), n + " vectors");
      assertEquals(Math.min(n, 32_768), r.trainingSize(), "the projection is trained on a sample");
      assertEquals(0, r.lists());
      assertEquals("efSearch=64,k_factor_rf=2", r.searchParameters());
      assertEquals(Metric.L2, r.metric(), "a PCA centres the vectors: inner products would change, distances do not");
    }
    assertEquals("efSearch=200,k_factor_rf=2",
        IndexRecipe.choose(50_000, 768, 20_000, 2_000_000, null, 16, 200).searchParameters());
  }

  @Test
  void aModelOfFewDimensionsGoesIntoTheGraphWhole() {
    for (int d : new int[] {8, 128, 255}) {
      IndexRecipe r = choose(50_000, d);
      assertEquals("IDMap,HNSW32", r.factory(), d + " dimensions");
      assertEquals(0, r.trainingSize(), "a graph alone needs no training");
      assertEquals("efSearch=64", r.searchParameters());
      assertEquals(Metric.INNER_PRODUCT, r.metric());
    }
    assertEquals("IDMap,PCA128,HNSW16,RFlat", choose(50_000, 256).factory());
  }

  @Test
  void invertedFilesGetEnoughTrainingPointsPerList() {
    // 4·√20000 = 566 lists would leave fewer than 39 points per list: capped at 20000 / 39.
    IndexRecipe r = IndexRecipe.choose(20_000, 768, 20_000, 2_000_000, "IVF{nlist},Flat", 16, 64);
    assertEquals("IVF512,Flat", r.factory());
    assertEquals(20_000, r.trainingSize());
    assertEquals("nprobe=16", r.searchParameters());

    IndexRecipe million = IndexRecipe.choose(1_000_000, 768, 20_000, 2_000_000, "IVF{nlist},Flat", 16, 64);
    assertEquals("IVF2048,Flat", million.factory(), "4·√n = 4000, rounded down to a power of two");
    assertEquals(524_288, million.trainingSize(), "256 points per list");
    assertTrue(million.trainingSize() >= 39L * million.lists());
    assertEquals("IVF2048,Flat", IndexRecipe.choose(300_000, 768, 20_000, 2_000_000, "IVF{nlist},Flat", 16, 64)
        .factory(), "a catalog keeps its list count while it grows");
  }

  @Test
  void theTrainingSampleOfTheLargestCatalogsFitsOneArray() {
    IndexRecipe r = choose(20_000_000, 768);
    assertEquals("PCAR165,IVF16384,PQ55np", r.factory());
    assertTrue((long) r.trainingSize() * 768 <= Integer.MAX_VALUE - 8, "training floats: " + r.trainingSize() * 768L);
    assertTrue(r.trainingSize() >= 39 * 16_384, "still enough points for every list: " + r.trainingSize());
    IndexRecipe override = IndexRecipe.choose(20_000_000, 1024, 20_000, 2_000_000, "IVF{nlist},Flat", 16, 64);
    assertTrue((long) override.trainingSize() * 1024 <= Integer.MAX_VALUE - 8);
  }

  @Test
  void veryLargeCatalogsAreProductQuantised() {
    IndexRecipe r = choose(4_000_000, 768);
    assertEquals("PCAR165,IVF4096,PQ55np", r.factory(), "55-byte codes over a rotation to 3 dimensions a byte");
    assertEquals(Metric.L2, r.metric(), "PQ compares unit vectors by L2");
    assertEquals(1_048_576, r.trainingSize());
    IndexRecipe small = choose(4_000_000, 74);
    assertEquals("IVF4096,PQ37np", small.factory(), "a model of few dimensions is quantised as it is");
    assertEquals(4, IndexRecipe.pqSubquantizers(8));
    assertEquals(48, IndexRecipe.pqSubquantizers(96));
    assertEquals(32, IndexRecipe.pqSubquantizers(128), "at most 55 one-byte codes");
    assertEquals(1, IndexRecipe.pqSubquantizers(3));
  }

  @Test
  void unquantisedIndexesCompareByInnerProduct() {
    assertEquals(Metric.INNER_PRODUCT, choose(19_999, 768).metric());
    assertEquals(Metric.INNER_PRODUCT, choose(1_000_000, 64).metric());
    assertEquals(Metric.INNER_PRODUCT, IndexRecipe.choose(100_000, 64, 20_000, 2_000_000, "IVF{nlist},SQ8", 32, 64).metric());
    assertEquals(Metric.L2, IndexRecipe.choose(100_000, 64, 20_000, 2_000_000, "OPQ16,IVF{nlist},PQ16", 32, 64).metric());
  }

  @Test
  void anOverrideIsUsedForEveryCatalogWithItsListCountFilledIn() {
    IndexRecipe r = IndexRecipe.choose(100_000, 64, 20_000, 2_000_000, "IVF{nlist},SQ8", 32, 64);
    assertEquals("IVF1024,SQ8", r.factory());
    assertEquals("nprobe=32", r.searchParameters());
    IndexRecipe hnsw = IndexRecipe.choose(100, 64, 20_000, 2_000_000, "IDMap,HNSW16", 32, 64);
    assertEquals("IDMap,HNSW16", hnsw.factory());
    assertEquals("efSearch=64,k_factor_rf=2",
        IndexRecipe.choose(100, 768, 20_000, 2_000_000, "IDMap,PCA64,HNSW32,RFlat", 32, 64).searchParameters(),
        "a refined graph is told how many candidates to rescore");
    assertEquals("efSearch=64", hnsw.searchParameters());
    assertNull(IndexRecipe.choose(100, 64, 20_000, 2_000_000, "IDMap,Flat", 32, 64).searchParameters());
  }

  @Test
  void tinyCatalogsAboveALowThresholdStillGetAtLeastOneList() {
    IndexRecipe r = IndexRecipe.choose(12, 8, 10, 2_000_000, "IVF{nlist},Flat", 16, 64);
    assertEquals("IVF1,Flat", r.factory());
    assertEquals("nprobe=1", r.searchParameters());
  }

  @Test
  void anOverrideTooBigForItsVectorsFallsBackToExactSearchSoEveryCatalogCanPublish() {
    assertEquals("IDMap,Flat", IndexRecipe.choose(0, 768, 20_000, 2_000_000, "IVF{nlist},Flat", 16, 64).factory(),
        "a tenant whose products were all deleted");
    assertEquals("IDMap,Flat", IndexRecipe.choose(0, 768, 20_000, 2_000_000, "IDMap,PCA64,HNSW32", 16, 64).factory());
    assertEquals("IDMap,Flat", IndexRecipe.choose(200, 64, 20_000, 2_000_000, "IVF{nlist},PQ16np", 16, 64).factory(),
        "256 codebook centroids need 256 points");
    assertEquals("IVF1,PQ4x4np", IndexRecipe.choose(40, 8, 10, 2_000_000, "IVF{nlist},PQ4x4np", 16, 64).factory(),
        "4-bit codes have 16 centroids");
    assertEquals("IVF4,PQ16np", IndexRecipe.choose(300, 64, 20_000, 2_000_000, "IVF{nlist},PQ16np", 16, 64).factory());
    assertEquals("IDMap,HNSW16", IndexRecipe.choose(0, 64, 20_000, 2_000_000, "IDMap,HNSW16", 16, 64).factory(),
        "a factory that needs no training is kept");
  }
}
