package io.visualsearch.demo.bench;

import java.util.Arrays;

/** Nearest-rank percentiles of a sample; benchmarks report p50 and p99 of the same run. */
final class Percentiles {

  private final double[] sorted;

  Percentiles(double[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("no samples");
    }
    sorted = values.clone();
    Arrays.sort(sorted);
  }

  double at(double percentile) {
    int rank = (int) Math.ceil(percentile / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  int count() {
    return sorted.length;
  }
}
