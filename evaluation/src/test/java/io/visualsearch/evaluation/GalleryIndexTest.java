package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GalleryIndexTest {

  /** Five unit vectors on a circle; the query at angle 0 ranks them by angle. */
  private static Features circle(double... degrees) {
    float[] rows = new float[degrees.length * 2];
    for (int i = 0; i < degrees.length; i++) {
      rows[2 * i] = (float) Math.cos(Math.toRadians(degrees[i]));
      rows[2 * i + 1] = (float) Math.sin(Math.toRadians(degrees[i]));
    }
    return new Features(rows, 2);
  }

  @Test
  void averagePrecisionOverTheFullRankingMatchesAHandComputation() {
    // Ranking by angle: 10° (label 0), 20° (1), 30° (0), 40° (1), 50° (0).
    Features gallery = circle(30, 10, 50, 20, 40);
    int[] labels = {0, 0, 0, 1, 1};
    try (GalleryIndex index = new GalleryIndex(gallery, labels, 2)) {
      RankingQuality quality = index.rank(circle(0, 0), new int[] {0, 1});
      // Label 0 relevant at ranks 1, 3, 5: (1/1 + 2/3 + 3/5) / 3.
      double ap0 = (1.0 + 2.0 / 3 + 3.0 / 5) / 3;
      // Label 1 relevant at ranks 2, 4: (1/2 + 2/4) / 2.
      double ap1 = (0.5 + 0.5) / 2;
      assertEquals(ap0, quality.averagePrecisionPerQuery()[0], 1e-9);
      assertEquals(ap1, quality.averagePrecisionPerQuery()[1], 1e-9);
      assertEquals((ap0 + ap1) / 2, quality.meanAveragePrecision(), 1e-9);
      assertEquals(ap0, quality.averagePrecisionPerCategory()[0], 1e-9);
      // Fewer than ten results: precision@10 still divides by ten, as the protocol defines it.
      assertEquals((0.3 + 0.2) / 2, quality.precisionAt10(), 1e-9);
      assertArrayEquals(new int[] {1, 3, 0, 4, 2}, quality.topTen()[0]);
      // Interpolated precision at recall 1 is the precision when the last relevant item arrives.
      double[] curve = quality.precisionAtRecallLevels();
      assertEquals((3.0 / 5 + 2.0 / 4) / 2, curve[RankingQuality.RECALL_STEPS], 1e-9);
      assertEquals(1.0 / 2 + 0.5 / 2, curve[0], 1e-9);
    }
  }

  @Test
  void exactItemRecallCountsOnlyTheOwnEntryInFirstPlace() {
    Features gallery = circle(0, 90, 180, 270);
    try (GalleryIndex index = new GalleryIndex(gallery, new int[] {0, 0, 1, 1}, 2)) {
      // Probes near items 0, 1 and 2, but the third claims to be item 3.
      Features probes = circle(5, 95, 175);
      assertEquals(2.0 / 3, index.exactItemRecallAt1(probes, new int[] {0, 1, 3}), 1e-9);
    }
  }

  @Test
  void anApproximateIndexIsScoredAgainstTheExactTopTen() {
    int n = 2000;
    int dim = 16;
    java.util.Random random = new java.util.Random(1);
    float[] rows = new float[n * dim];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = (float) random.nextGaussian();
    }
    Vectors.normaliseRows(rows, dim);
    Features gallery = new Features(rows, dim);
    int[] labels = new int[n];
    try (GalleryIndex index = new GalleryIndex(gallery, labels, 1)) {
      Features queries = gallery.select(new int[] {0, 1, 2, 3, 4, 5, 6, 7});
      ApproximateSearch full = index.approximate("IVF8,Flat", "nprobe=8", queries, 1);
      assertEquals(1.0, full.recallAt10(), 1e-9, "probing every list is exact");
      ApproximateSearch partial = index.approximate("IVF8,Flat", "nprobe=1", queries, 1);
      assertTrue(partial.recallAt10() < 1.0 && partial.recallAt10() > 0, "one of eight lists misses neighbours");
    }
  }
}
