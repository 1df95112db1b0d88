package io.visualsearch.evaluation;

/**
 * A trained head: grid features are L2-normalised, standardised ({@code (x - mean) * invStd}),
 * then {@code relu(x W1 + b1) W2 + b2} and L2-normalised. Matrices are row-major
 * ({@code w1} is {@code inputs x hidden}). {@code blend} is the share of the pretrained
 * {@code serving_default} embedding in the shipped embedding (see {@link HeadGraph#blend}).
 */
record ProjectionHead(
    int inputs, int hidden, int dim, float[] mean, float[] invStd, float[] w1, float[] b1, float[] w2, float[] b2, float blend) {

  ProjectionHead {
    if (mean.length != inputs || invStd.length != inputs || w1.length != inputs * hidden || b1.length != hidden
        || w2.length != hidden * dim || b2.length != dim) {
      throw new IllegalArgumentException("head weights do not match " + inputs + " -> " + hidden + " -> " + dim);
    }
    if (!(blend >= 0 && blend < 1)) {
      throw new IllegalArgumentException("blend must be in [0, 1), got " + blend);
    }
  }

  ProjectionHead withBlend(float newBlend) {
    return new ProjectionHead(inputs, hidden, dim, mean, invStd, w1, b1, w2, b2, newBlend);
  }

  /** Width of the shipped embedding: the head's, plus the pretrained one's when blended. */
  int outputDim() {
    return blend > 0 ? dim + BackboneGraph.CHANNELS : dim;
  }
}
