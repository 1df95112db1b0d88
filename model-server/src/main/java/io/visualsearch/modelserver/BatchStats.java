package io.visualsearch.modelserver;

/** Counters of the batcher since start: how many TensorFlow runs served how many requests and rows. */
public record BatchStats(long runs, long requests, long rows, long rejected) {

  /** Mean requests per TensorFlow run; 1.0 means no merging happened. */
  public double requestsPerRun() {
    return runs == 0 ? 0 : (double) requests / runs;
  }
}
