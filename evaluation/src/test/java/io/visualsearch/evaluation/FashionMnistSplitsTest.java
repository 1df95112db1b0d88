package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.samplecatalog.FashionMnist;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fashion-MNIST read through sample-catalog's reader, as the evaluation sees it. */
class FashionMnistSplitsTest {

  private static final int PIXELS = 28 * 28;

  @TempDir Path dir;

  @Test
  void readsImagesAndLabelsOfASplit() throws IOException {
    byte[] pixels = new byte[2 * PIXELS];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 7);
    }
    writeIdx("train", pixels, new byte[] {3, 9}, 28, 28);
    LabeledImages images = FashionMnistSplits.train(dir);
    assertEquals(2, images.count());
    assertEquals(28, images.height());
    assertEquals(28, images.width());
    assertArrayEquals(new int[] {3, 9}, images.labels());
    assertArrayEquals(pixels, images.pixels());
    assertArrayEquals(Arrays.copyOfRange(pixels, PIXELS, 2 * PIXELS), images.image(1));
  }

  @Test
  void theTestSplitIsReadFromTheT10kFiles() throws IOException {
    writeIdx("t10k", new byte[PIXELS], new byte[] {5}, 28, 28);
    assertArrayEquals(new int[] {5}, FashionMnistSplits.test(dir).labels());
    assertThrows(NoSuchFileException.class, () -> FashionMnistSplits.train(dir));
  }

  @Test
  void rejectsImagesThatAreNot28x28() throws IOException {
    writeIdx("train", new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, new byte[] {3, 9}, 2, 3);
    IOException e = assertThrows(IOException.class, () -> FashionMnistSplits.train(dir));
    assertTrue(e.getMessage().contains("28x28"), e.getMessage());
  }

  @Test
  void rejectsAFileWithTheWrongMagic() throws IOException {
    writeIdx("t10k", new byte[PIXELS], new byte[] {1}, 28, 28);
    // Swap the two files' roles: the labels file now carries the images magic.
    Files.move(dir.resolve("t10k-labels-idx1-ubyte.gz"), dir.resolve("tmp"));
    Files.copy(dir.resolve("t10k-images-idx3-ubyte.gz"), dir.resolve("t10k-labels-idx1-ubyte.gz"));
    IOException e = assertThrows(IOException.class, () -> FashionMnistSplits.test(dir));
    assertTrue(e.getMessage().contains("magic"), e.getMessage());
  }

  @Test
  void rejectsLabelsOutsideTheTenCategories() throws IOException {
    writeIdx("train", new byte[PIXELS], new byte[] {10}, 28, 28);
    IOException e = assertThrows(IOException.class, () -> FashionMnistSplits.train(dir));
    assertTrue(e.getMessage().contains("label 10"), e.getMessage());
  }

  @Test
  void missingDatasetNamesThePackage() {
    IOException e = assertThrows(NoSuchFileException.class, () -> FashionMnistSplits.train(dir));
    assertTrue(e.getMessage().contains("dataset-fashion-mnist"), e.getMessage());
  }

  @Test
  void aMissingLabelsFileNamesThePackageToo() throws IOException {
    writeIdx("train", new byte[PIXELS], new byte[] {1}, 28, 28);
    Files.delete(dir.resolve("train-labels-idx1-ubyte.gz"));
    IOException e = assertThrows(NoSuchFileException.class, () -> FashionMnistSplits.train(dir));
    assertTrue(e.getMessage().contains("train-labels-idx1-ubyte.gz"), e.getMessage());
    assertTrue(e.getMessage().contains("dataset-fashion-mnist"), e.getMessage());
  }

  @Test
  void categoriesAreTheDatasetsNamesInLabelOrder() {
    assertEquals(List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
        "Ankle boot"), FashionMnistSplits.CATEGORIES);
  }

  @Test
  void theInstalledDatasetHasTheDocumentedShape() throws IOException {
    Path installed = Path.of(System.getProperty("evaluation.fashionMnist", FashionMnist.DEBIAN_DIR.toString()));
    LabeledImages test = FashionMnistSplits.test(installed);
    assertEquals(10_000, test.count());
    assertEquals(28, test.height());
    assertEquals(28, test.width());
    int[] perCategory = new int[FashionMnistSplits.CATEGORIES.size()];
    for (int label : test.labels()) {
      perCategory[label]++;
    }
    for (int count : perCategory) {
      assertEquals(1_000, count, "Fashion-MNIST's test split is balanced");
    }
  }

  private void writeIdx(String prefix, byte[] pixels, byte[] labels, int height, int width) throws IOException {
    try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte.gz"))))) {
      out.writeInt(0x803);
      out.writeInt(labels.length);
      out.writeInt(height);
      out.writeInt(width);
      out.write(pixels);
    }
    try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte.gz"))))) {
      out.writeInt(0x801);
      out.writeInt(labels.length);
      out.write(labels);
    }
  }
}
