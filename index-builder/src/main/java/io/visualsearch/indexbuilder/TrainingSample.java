package io.visualsearch.indexbuilder;

import java.util.Comparator;
import java.util.List;

/**
 * Picks the vectors an index trains on. SKU ids are uniformly spread hashes, so the products with
 * the smallest ids are an unbiased sample; unlike a seeded shuffle the choice is stable from one
 * build to the next (a new product displaces at most one sample), so two builds of nearly the
 * same catalog get nearly the same centroids.
 */
final class TrainingSample {

  private TrainingSample() {}

  /** Row-major floats of {@code size} vectors (all of them if there are fewer). */
  static float[] of(List<ProductVector> vectors, int size, int dimension) {
    List<ProductVector> chosen = vectors.stream()
        .sorted(Comparator.comparingLong(ProductVector::id))
        .limit(size)
        .toList();
    // The recipe keeps samples within one array (IndexRecipe.trainingRows); anything larger is a bug.
    float[] out = new float[Math.multiplyExact(chosen.size(), dimension)];
    for (int i = 0; i < chosen.size(); i++) {
      System.arraycopy(chosen.get(i).vector(), 0, out, i * dimension, dimension);
    }
    return out;
  }
}
