package io.visualsearch.evaluation;

/** Row-major float matrices as the evaluation passes them around (n rows of {@code dim} floats). */
final class Vectors {

  private Vectors() {}

  /** Scales every row to unit length; an all-zero row stays zero. */
  static void normaliseRows(float[] rows, int dim) {
    for (int start = 0; start < rows.length; start += dim) {
      double sum = 0;
      for (int j = 0; j < dim; j++) {
        sum += (double) rows[start + j] * rows[start + j];
      }
      if (sum > 0) {
        float scale = (float) (1 / Math.sqrt(sum));
        for (int j = 0; j < dim; j++) {
          rows[start + j] *= scale;
        }
      }
    }
  }

  /** The rows at {@code indices}, in that order. */
  static float[] selectRows(float[] rows, int dim, int[] indices) {
    float[] out = new float[indices.length * dim];
    for (int i = 0; i < indices.length; i++) {
      System.arraycopy(rows, indices[i] * dim, out, i * dim, dim);
    }
    return out;
  }
}
