package io.visualsearch.evaluation;

/** Everything the report says about one model. */
public record ModelEvaluation(
    String model,
    String description,
    int dimension,
    RankingQuality ranking,
    double exactItemRecallAt1,
    double exactQueriesPerSecond,
    ApproximateSearch approximate) {

  /** The machine-readable line {@code ./visual-search eval} ends with, one per model. */
  public String summaryLine() {
    return String.format(java.util.Locale.ROOT, "model=%s mAP=%.4f P@10=%.4f qps=%.0f recall1_exact=%.4f",
        model, ranking.meanAveragePrecision(), ranking.precisionAt10(), exactQueriesPerSecond, exactItemRecallAt1);
  }
}
