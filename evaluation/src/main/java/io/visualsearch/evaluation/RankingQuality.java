package io.visualsearch.evaluation;

/**
 * Category-level relevance of one model: mean average precision over the full ranking of the
 * gallery, precision@10, AP per category, the interpolated precision–recall curve averaged over
 * queries (precision at recall 0, 1/20, ..., 1), and each query's ten best gallery positions.
 */
public record RankingQuality(
    double meanAveragePrecision,
    double precisionAt10,
    double[] averagePrecisionPerCategory,
    double[] precisionAtRecallLevels,
    int[][] topTen,
    double[] averagePrecisionPerQuery) {

  /** Recall levels of {@link #precisionAtRecallLevels()}: {@code i / RECALL_STEPS}. */
  public static final int RECALL_STEPS = 20;
}
