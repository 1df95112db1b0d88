package io.visualsearch.evaluation;

import io.visualsearch.samplecatalog.FashionCategory;
import io.visualsearch.samplecatalog.FashionMnist;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Fashion-MNIST as the evaluation uses it. Reading is sample-catalog's ({@link FashionMnist}: the
 * four gzipped IDX files Debian's {@code dataset-fashion-mnist} installs, 28x28 images, labels
 * 0..9, counts checked); this only copies a split into {@link LabeledImages} and names the
 * categories after {@link FashionCategory}.
 */
final class FashionMnistSplits {

  /** Category names in label order ({@link FashionCategory#displayName()}). */
  static final List<String> CATEGORIES =
      Arrays.stream(FashionCategory.values()).map(FashionCategory::displayName).toList();

  private FashionMnistSplits() {}

  /** The 60,000 training images: the catalog (gallery) and the only images training may use. */
  static LabeledImages train(Path dir) throws IOException {
    FashionMnist data = new FashionMnist(dir);
    try {
      return labeled(data.train());
    } catch (NoSuchFileException e) {
      throw notInstalled(e);
    }
  }

  /** The 10,000 test images: shopper queries, never indexed, never trained on. */
  static LabeledImages test(Path dir) throws IOException {
    FashionMnist data = new FashionMnist(dir);
    try {
      return labeled(data.test());
    } catch (NoSuchFileException e) {
      throw notInstalled(e);
    }
  }

  private static LabeledImages labeled(FashionMnist.Split split) {
    int side = FashionMnist.SIDE;
    int count = split.size();
    byte[] pixels = new byte[Math.multiplyExact(count, side * side)];
    int[] labels = new int[count];
    for (int i = 0; i < count; i++) {
      System.arraycopy(split.image(i), 0, pixels, i * side * side, side * side);
      labels[i] = split.label(i);
    }
    return new LabeledImages(pixels, labels, side, side);
  }

  private static NoSuchFileException notInstalled(NoSuchFileException e) {
    NoSuchFileException named = new NoSuchFileException(
        e.getFile(), e.getOtherFile(), "Fashion-MNIST not found (apt-get install dataset-fashion-mnist)");
    named.initCause(e);
    return named;
  }
}
