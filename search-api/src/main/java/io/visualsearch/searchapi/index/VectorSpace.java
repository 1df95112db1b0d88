package io.visualsearch.searchapi.index;

import io.visualsearch.faiss.Metric;

/**
 * How vectors of one index version are compared, so that shard hits and the exact search over
 * fresh vectors produce scores on one scale: higher is more similar.
 *
 * <p>The metric comes from the FAISS files themselves. Inner-product indexes hold L2-normalised
 * vectors (the index-builder normalises every embedding, so inner product is cosine similarity);
 * fresh vectors and the query are normalised the same way here, which keeps delta and shard
 * scores on one scale and does not change the ranking of shard hits.
 */
public record VectorSpace(Metric metric, boolean normalised) {

  /** @param manifestMetric the manifest's metric text, informative only: the FAISS files decide */
  public static VectorSpace of(Metric faissMetric, String manifestMetric) {
    return new VectorSpace(faissMetric, faissMetric == Metric.INNER_PRODUCT);
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

  /** FAISS's distance turned into a score where higher is better. */
  public float score(float faissDistance) {
    return metric == Metric.INNER_PRODUCT ? faissDistance : (float) (1.0 / (1.0 + faissDistance));
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
