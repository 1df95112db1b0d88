package io.visualsearch.evaluation;

/**
 * A trained head. Its input is the backbone's grid features, followed by {@code pixels} raw pixel
 * values when it has a pixel branch (0 = none; {@code pixels == inputs}: pixels only); each of the two parts is L2-normalised on its own,
 * then the whole row is standardised ({@code (x - mean) * invStd}). Then {@code h = relu(x W1 + b1)},
 * the category face {@code normalise(h W2 + b2)} and, when {@code instanceDim > 0}, the instance
 * face {@code normalise(h Wi + bi)}. Matrices are row-major ({@code w1} is {@code inputs x hidden},
 * {@code inputs} counting grid and pixels). {@code blend} is the share of the pretrained
 * {@code serving_default} embedding and {@code instanceShare} the instance face's share of the rest
 * (see {@link HeadGraph#compose}). With {@code posteriorTemperature > 0} the category part is not
 * the category face but its posterior over the trained category {@code proxies} (rows of width
 * {@code dim}), see {@link HeadGraph#posterior}.
 */
record ProjectionHead(
    int inputs, int pixels, int hidden, int dim, int instanceDim, float[] mean, float[] invStd,
    float[] w1, float[] b1, float[] w2, float[] b2, float[] wi, float[] bi, float[] proxies, float posteriorTemperature,
    float blend, float instanceShare) {

  ProjectionHead {
    if (pixels < 0 || pixels > inputs || mean.length != inputs || invStd.length != inputs
        || w1.length != inputs * hidden || b1.length != hidden || w2.length != hidden * dim || b2.length != dim
        || wi.length != hidden * instanceDim || bi.length != instanceDim) {
      throw new IllegalArgumentException("head weights do not match " + inputs + " -> " + hidden + " -> " + dim
          + " + " + instanceDim);
    }
    if (proxies.length % dim != 0 || (posteriorTemperature > 0 && proxies.length == 0) || !(posteriorTemperature >= 0)) {
      throw new IllegalArgumentException("posterior face needs category proxies of width " + dim + ", got "
          + proxies.length + " values at temperature " + posteriorTemperature);
    }
    if (!(blend >= 0 && blend < 1)) {
      throw new IllegalArgumentException("blend must be in [0, 1), got " + blend);
    }
    if (!(instanceShare >= 0 && instanceShare < 1) || (instanceShare > 0 && instanceDim == 0)) {
      throw new IllegalArgumentException("instance share must be in [0, 1) and needs an instance face, got "
          + instanceShare + " with instance width " + instanceDim);
    }
  }

  /** A single-face head on grid features only (no pixel branch, no instance face). */
  ProjectionHead(int inputs, int hidden, int dim, float[] mean, float[] invStd, float[] w1, float[] b1, float[] w2,
      float[] b2, float blend) {
    this(inputs, 0, hidden, dim, 0, mean, invStd, w1, b1, w2, b2, new float[0], new float[0], new float[0], 0, blend, 0);
  }

  ProjectionHead withComposition(float newPosteriorTemperature, float newBlend, float newInstanceShare) {
    return new ProjectionHead(inputs, pixels, hidden, dim, instanceDim, mean, invStd, w1, b1, w2, b2, wi, bi, proxies,
        newPosteriorTemperature, newBlend, newInstanceShare);
  }

  int categories() {
    return proxies.length / dim;
  }

  /** Width of the category part of the shipped embedding: the face itself, or its posterior over the categories. */
  int categoryPartDim() {
    return posteriorTemperature > 0 ? categories() : dim;
  }

  int gridInputs() {
    return inputs - pixels;
  }

  /** Width of the shipped embedding: the pretrained part when blended, the category face, the instance face when shared. */
  int outputDim() {
    return (blend > 0 ? BackboneGraph.CHANNELS : 0) + categoryPartDim() + (instanceShare > 0 ? instanceDim : 0);
  }
}
