package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EvaluationCatalogTest {

  @Test
  void subsetsAreSeededDistinctAndSorted() {
    int[] a = EvaluationCatalog.subset(1000, 100, new Random(5));
    int[] b = EvaluationCatalog.subset(1000, 100, new Random(5));
    assertArrayEquals(a, b);
    Set<Integer> distinct = new HashSet<>();
    for (int i : a) {
      distinct.add(i);
    }
    assertEquals(100, distinct.size());
    int[] sorted = a.clone();
    Arrays.sort(sorted);
    assertArrayEquals(sorted, a);
  }

  @Test
  void theFullSizeTakesEveryImageInOrder() {
    int[] all = EvaluationCatalog.subset(5, 5, new Random(1));
    assertArrayEquals(new int[] {0, 1, 2, 3, 4}, all);
  }

  @Test
  void trainingSplitsNeverOverlapAndStayInsideTheTrainingImages() {
    TrainingSplit split = TrainingSplit.draw(1000, 800, 100, 300, 50, 9);
    // The loops below check each position; these say there are positions to check.
    assertEquals(800, split.used().length);
    assertEquals(100, split.validation().length);
    assertEquals(300, split.viewed().length);
    assertEquals(50, split.validationProbes().length);
    Set<Integer> fit = new HashSet<>();
    for (int p : split.fit()) {
      fit.add(p);
    }
    for (int p : split.validation()) {
      assertTrue(!fit.contains(p), "validation position " + p + " is also fitted on");
    }
    for (int p : split.viewed()) {
      assertTrue(fit.contains(p), "views come from fit images only");
    }
    Set<Integer> validation = new HashSet<>();
    for (int p : split.validation()) {
      validation.add(p);
    }
    for (int p : split.validationProbes()) {
      assertTrue(validation.contains(p), "probes come from validation images only");
    }
    assertEquals(700, split.fit().length);
    for (int index : split.trainIndices(split.fit())) {
      assertTrue(index >= 0 && index < 1000);
    }
  }
}
