package io.visualsearch.benchmarks.ann;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RecallTest {

  @Test
  void recallAtKCountsTrueNeighboursFoundAnywhereInTheTopK() {
    long[][] truth = {{1, 2, 3}, {4, 5, 6}};
    long[][] found = {{3, 2, 1}, {4, 9, -1}};
    assertEquals((1.0 + 1.0 / 3) / 2, Recall.atK(truth, found, 3), 1e-12);
  }

  @Test
  void resultsBeyondKAndShortAnswersDoNotCount() {
    long[][] truth = {{1, 2}};
    assertEquals(0.5, Recall.atK(truth, new long[][] {{2, 7, 1}}, 2), 1e-12);
    assertEquals(0.5, Recall.atK(truth, new long[][] {{1}}, 2), 1e-12);
  }

  @Test
  void nearestInTopKAsksOnlyForTheTrueFirstNeighbour() {
    long[][] truth = {{1, 2}, {3, 4}};
    long[][] found = {{2, 1}, {4, 5}};
    assertEquals(0.5, Recall.nearestInTopK(truth, found, 2), 1e-12);
  }

  @Test
  void toleranceCountsAResultThatTiesWithTheKthTrueNeighbourButNotOneThatFallsShort() {
    // 1-d "vectors": inner products with the query (1.0) are the values themselves.
    float[] vectors = {0.9f, 0.8f, 0.7995f, 0.79f};
    float[] queries = {1f};
    double[] kth = {0.8}; // the true 2 nearest are rows 0 and 1
    long[][] found = {{0, 2}}; // row 2 is 0.0005 short of the 2nd true neighbour
    assertEquals(1.0, Recall.atKWithin(vectors, queries, 1, kth, found, 2, 1e-3), 1e-12);
    assertEquals(0.5, Recall.atKWithin(vectors, queries, 1, kth, found, 2, 1e-4), 1e-12);
    assertEquals(0.5, Recall.atKWithin(vectors, queries, 1, kth, new long[][] {{0, 3}}, 2, 1e-3), 1e-12,
        "0.01 short is a miss");
    assertEquals(0.5, Recall.atKWithin(vectors, queries, 1, kth, new long[][] {{0, -1}}, 2, 1e-3), 1e-12,
        "a missing result is a miss");
  }

  @Test
  void medianGapIsTheMiddleOfThePairwiseDifferences() {
    assertEquals(0.2, AnnBenchmark.median(new double[] {1.0, 0.5, 0.9}, new double[] {0.7, 0.4, 0.7}), 1e-12);
  }

  @Test
  void ivfListsFollowFourRootN() {
    assertEquals(1024, AnnBenchmark.nlistFor(60_000));
    assertEquals(2048, AnnBenchmark.nlistFor(200_000));
    assertEquals(64, AnnBenchmark.nlistFor(100));
  }

  @Test
  void theRotationCeilingKeepsTheRecipesRotationAndDropsListsAndCodes() {
    assertEquals("PCAR165,Flat", AnnBenchmark.rotationOnly("PCAR165,IVF2048,PQ55np"));
    assertEquals("Flat", AnnBenchmark.rotationOnly("IVF256,PQ32np"), "no rotation: exact search on the full vectors");
  }
}
