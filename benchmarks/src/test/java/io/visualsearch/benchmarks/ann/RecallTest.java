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
  void ivfListsFollowFourRootN() {
    assertEquals(1024, AnnBenchmark.nlistFor(60_000));
    assertEquals(2048, AnnBenchmark.nlistFor(200_000));
    assertEquals(64, AnnBenchmark.nlistFor(100));
  }
}
