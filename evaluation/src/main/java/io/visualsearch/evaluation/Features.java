package io.visualsearch.evaluation;

/** {@code count} embedding rows of {@code dim} floats, row-major. */
public record Features(float[] rows, int dim) {

  public Features {
    if (dim < 1 || rows.length % dim != 0) {
      throw new IllegalArgumentException(rows.length + " floats are not rows of " + dim);
    }
  }

  public int count() {
    return rows.length / dim;
  }

  public Features select(int[] indices) {
    return new Features(Vectors.selectRows(rows, dim, indices), dim);
  }
}
