package io.visualsearch.evaluation;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * mAP over the full ranking and P@10 by brute force: each query's inner products with the whole
 * gallery ({@link InnerProducts}, one matrix product per block of queries), sorted once. Model
 * selection measures many candidate embeddings on the validation split; asking FAISS for k = the
 * whole gallery keeps a k-sized heap per query, several times slower than one primitive sort. Ties
 * rank the lower gallery position first.
 */
final class FullRanking {

  /** Gallery positions need this many bits in a sort key; the score's 33 bits sit above them. */
  private static final int POSITION_BITS = 22;

  private FullRanking() {}

  /** Queries scored against the whole gallery at a time: bounds the score and key arrays held at once. */
  static final int CHUNK = 128;

  /** {mAP, P@10} of {@code queries} ranking {@code gallery}; relevant = same label. */
  static double[] meanAveragePrecisionAndPrecisionAt10(Features gallery, int[] galleryLabels, Features queries, int[] queryLabels) {
    if (gallery.dim() != queries.dim() || gallery.count() != galleryLabels.length || queries.count() != queryLabels.length) {
      throw new IllegalArgumentException("gallery and queries do not match");
    }
    int maxLabel = Arrays.stream(galleryLabels).max().orElse(0);
    int[] relevant = new int[maxLabel + 1];
    for (int label : galleryLabels) {
      relevant[label]++;
    }
    double ap = 0;
    double p10 = 0;
    try (InnerProducts products = new InnerProducts(gallery)) {
      for (int first = 0; first < queries.count(); first += CHUNK) {
        long[][] ranked = rankedIds(products, queries, first, Math.min(CHUNK, queries.count() - first));
        for (int i = 0; i < ranked.length; i++) {
          int label = queryLabels[first + i];
          double[] r = one(ranked[i], galleryLabels, label, label <= maxLabel ? relevant[label] : 0);
          ap += r[0];
          p10 += r[1];
        }
      }
    }
    return new double[] {ap / queries.count(), p10 / queries.count()};
  }

  /** Gallery positions in ranking order, highest inner product first, for queries {@code first .. first+size-1}. */
  static long[][] rankedIds(InnerProducts products, Features queries, int first, int size) {
    int n = products.galleryCount();
    if (n >= 1 << POSITION_BITS) {
      throw new IllegalArgumentException("gallery of " + n + " is too large for a brute-force ranking");
    }
    float[] scores = products.scores(queries, first, size);
    long mask = (1L << POSITION_BITS) - 1;
    return IntStream.range(0, size).parallel().mapToObj(q -> {
      long[] keys = new long[n];
      int base = q * n;
      for (int i = 0; i < n; i++) {
        keys[i] = (descending(scores[base + i]) << POSITION_BITS) | i;
      }
      Arrays.sort(keys);
      for (int i = 0; i < n; i++) {
        keys[i] &= mask;
      }
      return keys;
    }).toArray(long[][]::new);
  }

  private static double[] one(long[] ranked, int[] galleryLabels, int label, int relevant) {
    int hits = 0;
    int top = 0;
    double sum = 0;
    for (int rank = 0; rank < ranked.length && hits < relevant; rank++) {
      if (galleryLabels[(int) ranked[rank]] == label) {
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
