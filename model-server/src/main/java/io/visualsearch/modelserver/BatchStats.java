package io.visualsearch.modelserver;

/**
 * Counters of the batcher since start: how many TensorFlow runs served how many requests and rows,
 * the requests refused (queue full) and dropped unrun (their caller had gone), and the time spent
 * in those runs (summed over the batch threads, so it can exceed wall time).
 */
public record BatchStats(long runs, long requests, long rows, long rejected, long abandoned, long runNanos) {

  /** What happened between {@code earlier} and this snapshot. */
  public BatchStats since(BatchStats earlier) {
    return new BatchStats(runs - earlier.runs, requests - earlier.requests, rows - earlier.rows,
        rejected - earlier.rejected, abandoned - earlier.abandoned, runNanos - earlier.runNanos);
  }

  /** Mean rows per TensorFlow run. */
  public double rowsPerRun() {
    return runs == 0 ? 0 : (double) rows / runs;
  }

  /** Mean requests per TensorFlow run; 1.0 means no merging happened. */
  public double requestsPerRun() {
    return runs == 0 ? 0 : (double) requests / runs;
  }
}
