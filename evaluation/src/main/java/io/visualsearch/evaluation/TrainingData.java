package io.visualsearch.evaluation;

import java.io.IOException;

/**
 * The frozen backbone's features of everything fine-tuning reads: every used training image, and
 * the altered views of the fit items and validation probes. Rows follow {@link TrainingSplit}:
 * {@code clean} row i is {@code split.used()[i]}, {@code views} row j is {@code split.viewed()[j]},
 * {@code probes} row j is {@code split.validationProbes()[j]}. A pair's {@code grid} is whatever
 * the head reads: backbone grid features, raw pixels ({@link #pixels}) or both ({@link #withPixels}).
 */
record TrainingData(
    TrainingSplit split, int[] labels, BackboneFeatures.Pair clean, BackboneFeatures.Pair views, BackboneFeatures.Pair probes) {

  static TrainingData extract(
      BackboneFeatures backbone, FeatureCache cache, String set, LabeledImages train, TrainingSplit split,
      ShopperPhotoAlteration alteration) throws IOException {
    int[] used = split.used();
    String cleanKey = used.length == train.count() ? set + "-all" : set + "-" + FeatureCache.digest(used);
    BackboneFeatures.Pair clean = backbone.cached(cache, cleanKey, () -> train.select(used));
    BackboneFeatures.Pair views = alteredViews(backbone, cache, set, train, split.trainIndices(split.viewed()), alteration);
    BackboneFeatures.Pair probes = alteredViews(backbone, cache, set, train, split.trainIndices(split.validationProbes()), alteration);
    int[] labels = new int[used.length];
    for (int i = 0; i < used.length; i++) {
      labels[i] = train.labels()[used[i]];
    }
    return new TrainingData(split, labels, clean, views, probes);
  }

  /**
   * The same images as raw pixels ({@link PixelBranch}): pairs whose "grid" is the pixel rows and
   * which have no pretrained embedding. Altered views are re-drawn with the same seeded recipe, so
   * they are the very photos the backbone saw.
   */
  static TrainingData pixels(LabeledImages train, TrainingSplit split, ShopperPhotoAlteration alteration) {
    int[] used = split.used();
    int[] viewed = split.trainIndices(split.viewed());
    int[] probed = split.trainIndices(split.validationProbes());
    int[] labels = new int[used.length];
    for (int i = 0; i < used.length; i++) {
      labels[i] = train.labels()[used[i]];
    }
    return new TrainingData(split, labels,
        new BackboneFeatures.Pair(null, PixelBranch.of(train.select(used))),
        new BackboneFeatures.Pair(null, PixelBranch.of(alteration.alterAll(train.select(viewed), viewed))),
        new BackboneFeatures.Pair(null, PixelBranch.of(alteration.alterAll(train.select(probed), probed))));
  }

  /** The head's input rows {@code [grid, pixels]} beside this data's pretrained embeddings. */
  TrainingData withPixels(TrainingData pixels) {
    return new TrainingData(split, labels, join(clean, pixels.clean), join(views, pixels.views), join(probes, pixels.probes));
  }

  private static BackboneFeatures.Pair join(BackboneFeatures.Pair backbone, BackboneFeatures.Pair pixels) {
    Features a = backbone.grid();
    Features b = pixels.grid();
    if (a.count() != b.count()) {
      throw new IllegalArgumentException(a.count() + " grid rows vs " + b.count() + " pixel rows");
    }
    int width = a.dim() + b.dim();
    float[] rows = new float[Math.multiplyExact(a.count(), width)];
    for (int i = 0; i < a.count(); i++) {
      System.arraycopy(a.rows(), i * a.dim(), rows, i * width, a.dim());
      System.arraycopy(b.rows(), i * b.dim(), rows, i * width + a.dim(), b.dim());
    }
    return new BackboneFeatures.Pair(backbone.embedding(), new Features(rows, width));
  }

  private static BackboneFeatures.Pair alteredViews(
      BackboneFeatures backbone, FeatureCache cache, String set, LabeledImages train, int[] trainIndices,
      ShopperPhotoAlteration alteration) throws IOException {
    String key = set + "-" + alteration.fingerprint() + "-" + FeatureCache.digest(trainIndices);
    return backbone.cached(cache, key, () -> alteration.alterAll(train.select(trainIndices), trainIndices));
  }
}
