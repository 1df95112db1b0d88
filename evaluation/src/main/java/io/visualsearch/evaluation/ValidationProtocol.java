package io.visualsearch.evaluation;

import java.util.Arrays;
import java.util.Random;

/**
 * The evaluation protocol replayed inside the training split, for model selection: validation
 * images query a gallery of the fit images (category mAP, P@10), and altered views of validation
 * images must find their own image in a gallery of fit + validation images (exact-item recall@1).
 * Validation images are never trained on, and the test split is never read.
 */
final class ValidationProtocol {

  private static final int CATEGORIES = FashionMnist.CATEGORIES.size();

  private final TrainingData data;
  private final int[] queryPositions;
  private final int[] probeGalleryRows;

  ValidationProtocol(TrainingData data, int maxQueries, long seed) {
    this.data = data;
    int[] validation = data.split().validation();
    int[] chosen = EvaluationCatalog.subset(validation.length, Math.min(maxQueries, validation.length), new Random(seed));
    this.queryPositions = new int[chosen.length];
    for (int i = 0; i < chosen.length; i++) {
      queryPositions[i] = validation[chosen[i]];
    }
    // The exact-item gallery holds every used image, so a probe's own image sits at its position.
    this.probeGalleryRows = data.split().validationProbes();
  }

  /** Measures embeddings given for every used training image (rows as {@code data.clean()}) and for the probes. */
  ValidationResult measure(int epoch, float blend, Features all, Features probes) {
    int[] fit = data.split().fit();
    int[] galleryLabels = new int[fit.length];
    for (int i = 0; i < fit.length; i++) {
      galleryLabels[i] = data.labels()[fit[i]];
    }
    int[] queryLabels = Arrays.stream(queryPositions).map(p -> data.labels()[p]).toArray();
    RankingQuality ranking;
    try (GalleryIndex gallery = new GalleryIndex(all.select(fit), galleryLabels, CATEGORIES)) {
      ranking = gallery.rank(all.select(queryPositions), queryLabels);
    }
    double recall;
    try (GalleryIndex everything = new GalleryIndex(all, data.labels(), CATEGORIES)) {
      recall = everything.exactItemRecallAt1(probes, probeGalleryRows);
    }
    return new ValidationResult(epoch, blend, ranking.meanAveragePrecision(), ranking.precisionAt10(), recall);
  }

  /** Rows {@code [sqrt(w) * pretrained, sqrt(1 - w) * head]}, matching {@link HeadGraph#blend}. */
  static Features blend(Features pretrained, Features head, float w) {
    if (w <= 0) {
      return head;
    }
    int n = head.count();
    int dp = pretrained.dim();
    int dh = head.dim();
    float a = (float) Math.sqrt(w);
    float b = (float) Math.sqrt(1 - w);
    float[] out = new float[n * (dp + dh)];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < dp; j++) {
        out[i * (dp + dh) + j] = pretrained.rows()[i * dp + j] * a;
      }
      for (int j = 0; j < dh; j++) {
        out[i * (dp + dh) + dp + j] = head.rows()[i * dh + j] * b;
      }
    }
    return new Features(out, dp + dh);
  }
}
