package io.visualsearch.evaluation;

import java.io.IOException;

/**
 * The frozen backbone's features of everything fine-tuning reads: every used training image, and
 * the altered views of the fit items and validation probes. Rows follow {@link TrainingSplit}:
 * {@code clean} row i is {@code split.used()[i]}, {@code views} row j is {@code split.viewed()[j]},
 * {@code probes} row j is {@code split.validationProbes()[j]}.
 */
record TrainingData(
    TrainingSplit split, int[] labels, BackboneFeatures.Pair clean, BackboneFeatures.Pair views, BackboneFeatures.Pair probes) {

  static TrainingData extract(
      BackboneFeatures backbone, FeatureCache cache, LabeledImages train, TrainingSplit split, ShopperPhotoAlteration alteration)
      throws IOException {
    int[] used = split.used();
    String cleanKey = used.length == train.count() ? "train-all" : "train-" + FeatureCache.digest(used);
    BackboneFeatures.Pair clean = backbone.cached(cache, cleanKey, () -> train.select(used));
    BackboneFeatures.Pair views = alteredViews(backbone, cache, train, split.trainIndices(split.viewed()), alteration);
    BackboneFeatures.Pair probes = alteredViews(backbone, cache, train, split.trainIndices(split.validationProbes()), alteration);
    int[] labels = new int[used.length];
    for (int i = 0; i < used.length; i++) {
      labels[i] = train.labels()[used[i]];
    }
    return new TrainingData(split, labels, clean, views, probes);
  }

  private static BackboneFeatures.Pair alteredViews(
      BackboneFeatures backbone, FeatureCache cache, LabeledImages train, int[] trainIndices, ShopperPhotoAlteration alteration)
      throws IOException {
    String key = "train-" + alteration.fingerprint() + "-" + FeatureCache.digest(trainIndices);
    return backbone.cached(cache, key, () -> alteration.alterAll(train.select(trainIndices), trainIndices));
  }
}
