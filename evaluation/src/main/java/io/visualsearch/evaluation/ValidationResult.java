package io.visualsearch.evaluation;

/** Model-selection numbers on the validation split carved from the training images. */
record ValidationResult(int epoch, float blend, double meanAveragePrecision, double precisionAt10, double exactItemRecallAt1) {

  /** Both faces of relevance count equally when choosing the model to ship. */
  double score() {
    return meanAveragePrecision + exactItemRecallAt1;
  }
}
