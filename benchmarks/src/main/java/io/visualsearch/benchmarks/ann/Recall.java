package io.visualsearch.benchmarks.ann;

/** Recall of approximate results against exact ones, per query averaged over queries. */
final class Recall {

  private Recall() {}

  /**
   * recall@k ("k@k"): the share of each query's true k nearest neighbours found among the k
   * returned, averaged over queries. Missing results (fewer than k returned, or -1) count as misses.
   */
  static double atK(long[][] truth, long[][] found, int k) {
    double sum = 0;
    for (int q = 0; q < truth.length; q++) {
      int hits = 0;
      for (int i = 0; i < k && i < truth[q].length; i++) {
        if (truth[q][i] >= 0 && contains(found[q], truth[q][i], k)) {
          hits++;
        }
      }
      sum += (double) hits / k;
    }
    return sum / truth.length;
  }

  /** "1-recall@k": the share of queries whose true nearest neighbour is among the k returned. */
  static double nearestInTopK(long[][] truth, long[][] found, int k) {
    int hits = 0;
    for (int q = 0; q < truth.length; q++) {
      if (truth[q].length > 0 && contains(found[q], truth[q][0], k)) {
        hits++;
      }
    }
    return (double) hits / truth.length;
  }

  /**
   * recall@k with ANN-Benchmarks' tie tolerance: a returned vector counts when its exact inner
   * product with the query is within {@code epsilon} of the k-th true neighbour's, so neighbours
   * that differ from the true ones by less than {@code epsilon} are not misses. Averaged over queries.
   *
   * @param kthScore per query, the k-th true neighbour's inner product
   */
  static double atKWithin(float[] vectors, float[] queries, int dimension, double[] kthScore, long[][] found, int k,
      double epsilon) {
    double sum = 0;
    for (int q = 0; q < kthScore.length; q++) {
      int hits = 0;
      for (int i = 0; i < k && i < found[q].length; i++) {
        long id = found[q][i];
        if (id >= 0 && dot(vectors, (int) id, queries, q, dimension) >= kthScore[q] - epsilon) {
          hits++;
        }
      }
      sum += (double) hits / k;
    }
    return sum / kthScore.length;
  }

  static double dot(float[] vectors, int row, float[] queries, int query, int dimension) {
    double s = 0;
    for (int j = 0; j < dimension; j++) {
      s += (double) vectors[row * dimension + j] * queries[query * dimension + j];
    }
    return s;
  }

  private static boolean contains(long[] ids, long id, int k) {
    for (int i = 0; i < k && i < ids.length; i++) {
      if (ids[i] == id) {
        return true;
      }
    }
    return false;
  }
}
