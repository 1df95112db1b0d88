package io.visualsearch.searchapi.index;

import io.visualsearch.faiss.Metric;

/**
 * How vectors of one index version are compared, so that shard hits and the exact search over
 * fresh vectors produce scores on one scale: higher is more similar.
 *
 * <p>The index-builder normalises every embedding and says so with the manifest metric {@code
 * cosine}; its FAISS files compare by inner product, or by L2 for product-quantised indexes
 * (which quantise far better that way). On unit vectors both rank as cosine does, and a squared
 * L2 distance d is the cosine 1 − d/2, so a cosine space scores every hit, whatever the file's
 * metric, as a cosine similarity; fresh vectors and the query are normalised the same way, which
 * keeps delta and shard scores on one scale. Any other manifest metric takes the FAISS metric as
 * it is (L2 scored 1 / (1 + d)).
 */
public record VectorSpace(Metric metric, boolean normalised) {

  /**
   * @param faissMetric the metric the FAISS files compare by
   * @param manifestMetric the manifest's metric text; {@code cosine} means normalised vectors
   */
  public static VectorSpace of(Metric faissMetric, String manifestMetric) {
    return new VectorSpace(faissMetric, "cosine".equalsIgnoreCase(manifestMetric));
  }

  /** The vector as it is searched: a normalised copy when the space is cosine. */
  public float[] prepare(float[] v) {
    if (!normalised) {
      return v;
    }
    double sum = 0;
    for (float x : v) {
      sum += (double) x * x;
    }
    float[] out = v.clone();
    if (sum > 0) {
      float inv = (float) (1.0 / Math.sqrt(sum));
      for (int i = 0; i < out.length; i++) {
        out[i] *= inv;
      }
    }
    return out;
  }

  /** FAISS's distance turned into a score where higher is better (the cosine in a cosine space). */
  public float score(float faissDistance) {
    if (metric == Metric.INNER_PRODUCT) {
      return faissDistance;
    }
    return normalised ? 1f - faissDistance / 2f : (float) (1.0 / (1.0 + faissDistance));
  }

  /** The score of a prepared vector against a prepared query, computed exactly as FAISS would. */
  public float exactScore(float[] query, float[] vector) {
    if (metric == Metric.INNER_PRODUCT) {
      double dot = 0;
      for (int i = 0; i < query.length; i++) {
        dot += (double) query[i] * vector[i];
      }
      return (float) dot;
    }
    double d = 0;
    for (int i = 0; i < query.length; i++) {
      double diff = (double) query[i] - vector[i];
      d += diff * diff;
    }
    return score((float) d);
  }
}
