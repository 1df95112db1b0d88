package io.visualsearch.evaluation;

import java.util.Comparator;
import java.util.List;

/** Model-selection numbers on the validation split carved from the training images. */
record ValidationResult(
    int epoch, float posteriorTemperature, float blend, float instanceShare, double meanAveragePrecision, double precisionAt10, double exactItemRecallAt1) {

  /**
   * Category mAP (the metric) decides; among results within {@code mapTolerance} of the best
   * mAP, exact-item recall@1 breaks the tie, then P@10, then the earlier entry.
   */
  static int select(List<ValidationResult> results, double mapTolerance) {
    double bestMap = results.stream().mapToDouble(ValidationResult::meanAveragePrecision).max().orElseThrow();
    Comparator<ValidationResult> order = Comparator.comparingDouble(ValidationResult::exactItemRecallAt1)
        .thenComparingDouble(ValidationResult::precisionAt10);
    int best = -1;
    for (int i = 0; i < results.size(); i++) {
      ValidationResult r = results.get(i);
      if (r.meanAveragePrecision() >= bestMap - mapTolerance && (best < 0 || order.compare(r, results.get(best)) > 0)) {
        best = i;
      }
    }
    return best;
  }
}
