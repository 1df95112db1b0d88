package io.visualsearch.demo.bench;

import java.util.Arrays;

/**
 * Nearest-rank percentiles of a sample; benchmarks report p50 and p99 of the same run. NaN marks a
 * call that failed (it has no latency) and is not part of the sample.
 */
final class Percentiles {

  private final double[] sorted;

  Percentiles(double[] values) {
    sorted = Arrays.stream(values).filter(v -> !Double.isNaN(v)).sorted().toArray();
    if (sorted.length == 0) {
      throw new IllegalArgumentException(values.length == 0 ? "no samples" : "no call succeeded: nothing to measure");
    }
  }

  double at(double percentile) {
    int rank = (int) Math.ceil(percentile / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  int count() {
    return sorted.length;
  }
}
