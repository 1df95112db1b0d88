package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.Metric;
import io.visualsearch.faiss.SearchResult;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FullRankingTest {

  /** FAISS's exact search with k = the whole gallery is the reference the fast ranking replaces. */
  @Test
  void agreesWithFaissExactSearchOverTheWholeGalleryAcrossQueryBlocks() {
    Random random = new Random(10);
    int n = 700;
    int dim = 96;
    // More queries than one block, and a partial last block.
    int queryCount = FullRanking.CHUNK * 2 + 37;
    Features gallery = RandomUnitRows.of(random, n, dim);
    Features queries = RandomUnitRows.of(random, queryCount, dim);
    int[] galleryLabels = random.ints(n, 0, 5).toArray();
    int[] queryLabels = random.ints(queryCount, 0, 5).toArray();
    int[] relevant = new int[5];
    for (int label : galleryLabels) {
      relevant[label]++;
    }
    double ap = 0;
    double p10 = 0;
    try (FaissIndex exact = FaissIndex.create(dim, "Flat", Metric.INNER_PRODUCT)) {
      exact.add(gallery.rows());
      SearchResult all = exact.search(queries.rows(), n);
      for (int q = 0; q < queryCount; q++) {
        int hits = 0;
        double sum = 0;
        for (int rank = 0; rank < n; rank++) {
          if (galleryLabels[(int) all.id(q, rank)] == queryLabels[q]) {
            hits++;
            sum += (double) hits / (rank + 1);
            if (rank < 10) {
              p10 += 0.1;
            }
          }
        }
        ap += sum / relevant[queryLabels[q]];
      }
    }
    double[] fast = FullRanking.meanAveragePrecisionAndPrecisionAt10(gallery, galleryLabels, queries, queryLabels);
    assertEquals(ap / queryCount, fast[0], 1e-6);
    assertEquals(p10 / queryCount, fast[1], 1e-9);
  }

  @Test
  void ranksByInnerProductAndBreaksTiesByGalleryPosition() {
    // Items 1 and 3 are the same vector; item 0 points away from the query.
    Features gallery = new Features(new float[] {-1, 0, 0.6f, 0.8f, 1, 0, 0.6f, 0.8f}, 2);
    Features query = new Features(new float[] {1, 0}, 2);
    try (InnerProducts products = new InnerProducts(gallery)) {
      assertArrayEquals(new float[] {-1, 0.6f, 1, 0.6f}, products.scores(query, 0, 1), 1e-6f);
      assertArrayEquals(new long[] {2, 1, 3, 0}, FullRanking.rankedIds(products, query, 0, 1)[0]);
    }
  }

  @Test
  void refusesQueriesOfAnotherDimension() {
    try (InnerProducts products = new InnerProducts(new Features(new float[] {1, 0}, 2))) {
      assertThrows(IllegalArgumentException.class, () -> products.scores(new Features(new float[] {1, 0, 0}, 3), 0, 1));
    }
  }
}
