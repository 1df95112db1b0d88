package io.visualsearch.evaluation;

import java.util.Random;

/** Seeded random unit vectors for tests. */
final class RandomUnitRows {

  private RandomUnitRows() {}

  static Features of(Random random, int n, int dim) {
    float[] rows = new float[n * dim];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = (float) random.nextGaussian();
    }
    Vectors.normaliseRows(rows, dim);
    return new Features(rows, dim);
  }
}
