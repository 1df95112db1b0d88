package io.visualsearch.evaluation;

/**
 * Per-dimension mean and 1/std of feature rows whose parts (grid, then pixels) are each
 * L2-normalised, the head's input scaling ({@link ProjectionHead}): computed on the fit images
 * only, then frozen into the exported graph.
 */
record FeatureStandardisation(float[] mean, float[] invStd) {

  static FeatureStandardisation of(Features features, int[] rows) {
    return of(features, rows, 0);
  }

  /** The last {@code pixels} columns are normalised apart from the ones before them. */
  static FeatureStandardisation of(Features features, int[] rows, int pixels) {
    int dim = features.dim();
    int[] partEnds = pixels == 0 ? new int[] {dim} : new int[] {dim - pixels, dim};
    double[] sum = new double[dim];
    double[] sumSq = new double[dim];
    for (int r : rows) {
      int base = r * dim;
      int start = 0;
      for (int end : partEnds) {
        double norm = 0;
        for (int j = start; j < end; j++) {
          norm += (double) features.rows()[base + j] * features.rows()[base + j];
        }
        double scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
        for (int j = start; j < end; j++) {
          double v = features.rows()[base + j] * scale;
          sum[j] += v;
          sumSq[j] += v * v;
        }
        start = end;
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
