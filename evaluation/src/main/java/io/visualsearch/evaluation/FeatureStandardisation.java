package io.visualsearch.evaluation;

/**
 * Per-dimension mean and 1/std of L2-normalised feature rows, the head's input scaling
 * ({@link ProjectionHead}): computed on the fit images only, then frozen into the exported graph.
 */
record FeatureStandardisation(float[] mean, float[] invStd) {

  static FeatureStandardisation of(Features features, int[] rows) {
    int dim = features.dim();
    double[] sum = new double[dim];
    double[] sumSq = new double[dim];
    for (int r : rows) {
      int base = r * dim;
      double norm = 0;
      for (int j = 0; j < dim; j++) {
        norm += (double) features.rows()[base + j] * features.rows()[base + j];
      }
      double scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (int j = 0; j < dim; j++) {
        double v = features.rows()[base + j] * scale;
        sum[j] += v;
        sumSq[j] += v * v;
      }
    }
    float[] mean = new float[dim];
    float[] invStd = new float[dim];
    for (int j = 0; j < dim; j++) {
      double m = sum[j] / rows.length;
      double variance = Math.max(0, sumSq[j] / rows.length - m * m);
      mean[j] = (float) m;
      // The epsilon keeps constant dimensions (e.g. always-zero activations) from exploding.
      invStd[j] = (float) (1 / Math.sqrt(variance + 1e-8));
    }
    return new FeatureStandardisation(mean, invStd);
  }
}
