package io.visualsearch.evaluation;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * mAP over the full ranking and P@10 by brute force: each query's inner products with the whole
 * gallery, sorted once. Model selection measures many candidate embeddings on the validation split;
 * asking FAISS for k = the whole gallery keeps a k-sized heap per query, several times slower than
 * one primitive sort. Ties rank the lower gallery position first.
 */
final class FullRanking {

  /** Gallery positions need this many bits in a sort key; the score's 33 bits sit above them. */
  private static final int POSITION_BITS = 22;

  private FullRanking() {}

  /** {mAP, P@10} of {@code queries} ranking {@code gallery}; relevant = same label. */
  static double[] meanAveragePrecisionAndPrecisionAt10(Features gallery, int[] galleryLabels, Features queries, int[] queryLabels) {
    if (gallery.dim() != queries.dim() || gallery.count() != galleryLabels.length || queries.count() != queryLabels.length) {
      throw new IllegalArgumentException("gallery and queries do not match");
    }
    if (gallery.count() >= 1 << POSITION_BITS) {
      throw new IllegalArgumentException("gallery of " + gallery.count() + " is too large for a brute-force ranking");
    }
    int maxLabel = Arrays.stream(galleryLabels).max().orElse(0);
    int[] relevant = new int[maxLabel + 1];
    for (int label : galleryLabels) {
      relevant[label]++;
    }
    double[][] perQuery = IntStream.range(0, queries.count()).parallel()
        .mapToObj(q -> one(gallery, galleryLabels, queries, q, queryLabels[q], queryLabels[q] <= maxLabel ? relevant[queryLabels[q]] : 0))
        .toArray(double[][]::new);
    double ap = 0;
    double p10 = 0;
    for (double[] r : perQuery) {
      ap += r[0];
      p10 += r[1];
    }
    return new double[] {ap / perQuery.length, p10 / perQuery.length};
  }

  /** Gallery positions in ranking order for query {@code q}: highest inner product first. */
  static long[] rankedIds(Features gallery, Features queries, int q) {
    long[] keys = sortedKeys(gallery, queries, q);
    long mask = (1L << POSITION_BITS) - 1;
    for (int i = 0; i < keys.length; i++) {
      keys[i] &= mask;
    }
    return keys;
  }

  private static long[] sortedKeys(Features gallery, Features queries, int q) {
    if (gallery.count() >= 1 << POSITION_BITS) {
      throw new IllegalArgumentException("gallery of " + gallery.count() + " is too large for a brute-force ranking");
    }
    int dim = gallery.dim();
    int n = gallery.count();
    float[] g = gallery.rows();
    float[] x = queries.rows();
    int qBase = q * dim;
    long[] keys = new long[n];
    for (int i = 0; i < n; i++) {
      keys[i] = (descending(dot(g, i * dim, x, qBase, dim)) << POSITION_BITS) | i;
    }
    Arrays.sort(keys);
    return keys;
  }

  /** Four independent partial sums: the JIT does not vectorise a float reduction, but it can overlap these. */
  private static float dot(float[] a, int aBase, float[] b, int bBase, int dim) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int j = 0;
    for (; j + 3 < dim; j += 4) {
      s0 += a[aBase + j] * b[bBase + j];
      s1 += a[aBase + j + 1] * b[bBase + j + 1];
      s2 += a[aBase + j + 2] * b[bBase + j + 2];
      s3 += a[aBase + j + 3] * b[bBase + j + 3];
    }
    for (; j < dim; j++) {
      s0 += a[aBase + j] * b[bBase + j];
    }
    return (s0 + s1) + (s2 + s3);
  }

  private static double[] one(Features gallery, int[] galleryLabels, Features queries, int q, int label, int relevant) {
    int n = gallery.count();
    long[] keys = sortedKeys(gallery, queries, q);
    int hits = 0;
    int top = 0;
    double sum = 0;
    long mask = (1L << POSITION_BITS) - 1;
    for (int rank = 0; rank < n && hits < relevant; rank++) {
      if (galleryLabels[(int) (keys[rank] & mask)] == label) {
        hits++;
        sum += (double) hits / (rank + 1);
        if (rank < 10) {
          top++;
        }
      }
    }
    return new double[] {relevant == 0 ? 0 : sum / relevant, top / 10.0};
  }

  /** A non-negative key that sorts higher scores first. */
  private static long descending(float score) {
    int bits = Float.floatToIntBits(score == 0 ? 0f : score);
    int ascending = bits ^ ((bits >> 31) & 0x7fffffff);
    return (long) Integer.MAX_VALUE - ascending;
  }
}
