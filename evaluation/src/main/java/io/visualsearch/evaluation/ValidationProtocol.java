package io.visualsearch.evaluation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The evaluation protocol replayed inside the training split, for model selection: validation
 * images query a gallery of the fit images (category mAP, P@10), and altered views of validation
 * images must find their own image in a gallery of fit + validation images (exact-item recall@1).
 * Validation images are never trained on, and the test split is never read.
 */
final class ValidationProtocol {

  private final TrainingData data;
  private final int[] queryPositions;
  private final int[] probeGalleryRows;
  private final int categories;

  ValidationProtocol(TrainingData data, int categories, int maxQueries, long seed) {
    this.data = data;
    this.categories = categories;
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
    return measure(epoch, 0, blend, 0, all, probes);
  }

  ValidationResult measure(int epoch, float posteriorTemperature, float blend, float instanceShare, Features all, Features probes) {
    int[] fit = data.split().fit();
    int[] galleryLabels = new int[fit.length];
    for (int i = 0; i < fit.length; i++) {
      galleryLabels[i] = data.labels()[fit[i]];
    }
    int[] queryLabels = Arrays.stream(queryPositions).map(p -> data.labels()[p]).toArray();
    double[] ranking = FullRanking.meanAveragePrecisionAndPrecisionAt10(all.select(fit), galleryLabels,
        all.select(queryPositions), queryLabels);
    double recall;
    try (GalleryIndex everything = new GalleryIndex(all, data.labels(), categories)) {
      recall = everything.exactItemRecallAt1(probes, probeGalleryRows);
    }
    return new ValidationResult(epoch, posteriorTemperature, blend, instanceShare, ranking[0], ranking[1], recall);
  }

  /** {@link HeadGraph#posterior} row by row: the category face's normalised softmax over the unit proxies. */
  static Features posterior(Features category, float[] proxies, float temperature) {
    int dim = category.dim();
    int k = proxies.length / dim;
    float[] unit = proxies.clone();
    Vectors.normaliseRows(unit, dim);
    int n = category.count();
    float[] out = new float[n * k];
    double[] logits = new double[k];
    for (int i = 0; i < n; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < k; c++) {
        double cos = 0;
        for (int j = 0; j < dim; j++) {
          cos += category.rows()[i * dim + j] * unit[c * dim + j];
        }
        logits[c] = cos / temperature;
        max = Math.max(max, logits[c]);
      }
      double sum = 0;
      for (int c = 0; c < k; c++) {
        logits[c] = Math.exp(logits[c] - max);
        sum += logits[c];
      }
      for (int c = 0; c < k; c++) {
        out[i * k + c] = (float) (logits[c] / sum);
      }
    }
    Vectors.normaliseRows(out, k);
    return new Features(out, k);
  }

  /** Rows {@code [sqrt(w) * pretrained, sqrt(1 - w) * head]}: {@link #compose} without an instance face. */
  static Features blend(Features pretrained, Features head, float w) {
    return compose(pretrained, head, null, w, 0);
  }

  /**
   * The shipped embedding computed from its parts, row for row as {@link HeadGraph#compose} does in
   * the exported graph: pretrained part (blend), category face, instance face (instance share).
   */
  static Features compose(Features pretrained, Features category, Features instance, float blend, float instanceShare) {
    float[] scales = HeadGraph.scales(blend, instanceShare);
    if (scales[0] <= 0 && scales[2] <= 0) {
      return category;
    }
    List<Features> parts = new ArrayList<>();
    List<Float> weights = new ArrayList<>();
    if (scales[0] > 0) {
      parts.add(pretrained);
      weights.add(scales[0]);
    }
    parts.add(category);
    weights.add(scales[1]);
    if (scales[2] > 0) {
      parts.add(instance);
      weights.add(scales[2]);
    }
    int n = category.count();
    int width = parts.stream().mapToInt(Features::dim).sum();
    float[] out = new float[n * width];
    for (int i = 0; i < n; i++) {
      int at = i * width;
      for (int p = 0; p < parts.size(); p++) {
        Features part = parts.get(p);
        float w = weights.get(p);
        int d = part.dim();
        for (int j = 0; j < d; j++) {
          out[at + j] = part.rows()[i * d + j] * w;
        }
        at += d;
      }
    }
    return new Features(out, width);
  }
}
