package io.visualsearch.evaluation;

import java.util.Arrays;
import java.util.Random;

/**
 * Which training images fine-tuning fits on and which it selects with — all drawn from
 * Fashion-MNIST's training split, never from the test split. {@code fit} and {@code validation}
 * are disjoint positions into {@code used} (train-split indices); {@code viewed} are fit positions
 * that also get an altered "shopper photo" view for the augmentation-invariance term, and
 * {@code validationProbes} validation positions whose altered views measure exact-item recall
 * during model selection.
 */
record TrainingSplit(int[] used, int[] fit, int[] validation, int[] viewed, int[] validationProbes) {

  static TrainingSplit draw(int trainCount, int use, int validation, int views, int validationProbes, long seed) {
    int[] used = EvaluationCatalog.subset(trainCount, use, new Random(seed));
    if (validation >= used.length) {
      throw new IllegalArgumentException("validation split " + validation + " leaves nothing to fit on " + used.length);
    }
    int[] shuffled = permutation(used.length, new Random(seed + 11));
    int[] val = Arrays.copyOfRange(shuffled, 0, validation);
    int[] fit = Arrays.copyOfRange(shuffled, validation, shuffled.length);
    Arrays.sort(val);
    int[] viewed = Arrays.copyOf(fit, Math.min(views, fit.length));
    int[] probes = Arrays.copyOf(shuffled, Math.min(validationProbes, validation));
    Arrays.sort(fit);
    Arrays.sort(viewed);
    Arrays.sort(probes);
    return new TrainingSplit(used, fit, val, viewed, probes);
  }

  /** Train-split indices of the given positions into {@link #used()}. */
  int[] trainIndices(int[] positions) {
    int[] out = new int[positions.length];
    for (int i = 0; i < positions.length; i++) {
      out[i] = used[positions[i]];
    }
    return out;
  }

  private static int[] permutation(int n, Random random) {
    int[] p = new int[n];
    Arrays.setAll(p, i -> i);
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
