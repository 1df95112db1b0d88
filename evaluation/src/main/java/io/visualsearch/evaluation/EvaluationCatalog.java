package io.visualsearch.evaluation;

import java.util.Arrays;
import java.util.Random;

/**
 * The evaluation's catalog and shoppers: the gallery is drawn from Fashion-MNIST's training split
 * (the retailer's catalog), the queries from its test split (shopper photos, never indexed, never
 * trained on), and a category label decides relevance. Subsets are seeded random draws kept in
 * dataset order; the full sizes take every image. {@code exactItems} are gallery positions whose
 * altered photos measure exact-item recall.
 */
public record EvaluationCatalog(
    LabeledImages train, LabeledImages test, int[] galleryIndices, int[] queryIndices, int[] exactItems) {

  public static EvaluationCatalog draw(LabeledImages train, LabeledImages test, int gallery, int queries, int exact, long seed) {
    int[] galleryIndices = subset(train.count(), gallery, new Random(seed));
    int[] queryIndices = subset(test.count(), queries, new Random(seed + 1));
    int[] exactItems = subset(galleryIndices.length, Math.min(exact, galleryIndices.length), new Random(seed + 2));
    return new EvaluationCatalog(train, test, galleryIndices, queryIndices, exactItems);
  }

  /** {@code size} distinct indices below {@code total}, ascending; all of them when size ≥ total. */
  static int[] subset(int total, int size, Random random) {
    if (size < 1) {
      throw new IllegalArgumentException("subset size must be positive, got " + size);
    }
    if (size >= total) {
      int[] all = new int[total];
      Arrays.setAll(all, i -> i);
      return all;
    }
    int[] permutation = new int[total];
    Arrays.setAll(permutation, i -> i);
    for (int i = total - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = permutation[i];
      permutation[i] = permutation[j];
      permutation[j] = t;
    }
    int[] chosen = Arrays.copyOf(permutation, size);
    Arrays.sort(chosen);
    return chosen;
  }

  public LabeledImages galleryImages() {
    return train.select(galleryIndices);
  }

  public LabeledImages queryImages() {
    return test.select(queryIndices);
  }

  public int[] galleryLabels() {
    return labelsAt(train, galleryIndices);
  }

  public int[] queryLabels() {
    return labelsAt(test, queryIndices);
  }

  private static int[] labelsAt(LabeledImages images, int[] indices) {
    int[] out = new int[indices.length];
    for (int i = 0; i < indices.length; i++) {
      out[i] = images.labels()[indices[i]];
    }
    return out;
  }

  /** Train-split indices of the exact-item probes (their identity for the alteration seed). */
  public int[] exactTrainIndices() {
    int[] out = new int[exactItems.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = galleryIndices[exactItems[i]];
    }
    return out;
  }
}
