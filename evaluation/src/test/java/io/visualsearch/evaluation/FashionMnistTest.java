package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

  @TempDir Path dir;

  @Test
  void readsImagesAndLabelsOfASplit() throws IOException {
    writeIdx("train", new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, new byte[] {3, 9}, 2, 3);
    LabeledImages images = new FashionMnist(dir).read(FashionMnist.Split.TRAIN);
    assertEquals(2, images.count());
    assertEquals(2, images.height());
    assertEquals(3, images.width());
    assertArrayEquals(new int[] {3, 9}, images.labels());
    assertArrayEquals(new byte[] {7, 8, 9, 10, 11, 12}, images.image(1));
  }

  @Test
  void rejectsAFileWithTheWrongMagic() throws IOException {
    writeIdx("t10k", new byte[] {1, 2, 3, 4}, new byte[] {1}, 2, 2);
    // Swap the two files' roles: the labels file now carries the images magic.
    Files.move(dir.resolve("t10k-labels-idx1-ubyte.gz"), dir.resolve("tmp"));
    Files.copy(dir.resolve("t10k-images-idx3-ubyte.gz"), dir.resolve("t10k-labels-idx1-ubyte.gz"));
    IOException e = assertThrows(IOException.class, () -> new FashionMnist(dir).read(FashionMnist.Split.TEST));
    assertTrue(e.getMessage().contains("magic"), e.getMessage());
  }

  @Test
  void rejectsLabelsOutsideTheTenCategories() throws IOException {
    writeIdx("train", new byte[] {1, 2, 3, 4}, new byte[] {10}, 2, 2);
    IOException e = assertThrows(IOException.class, () -> new FashionMnist(dir).read(FashionMnist.Split.TRAIN));
    assertTrue(e.getMessage().contains("label 10"), e.getMessage());
  }

  @Test
  void missingDatasetNamesThePackage() {
    IOException e = assertThrows(IOException.class, () -> new FashionMnist(dir).read(FashionMnist.Split.TRAIN));
    assertTrue(e.getMessage().contains("dataset-fashion-mnist"), e.getMessage());
  }

  @Test
  void theInstalledDatasetHasTheDocumentedShape() throws IOException {
    Path installed = Path.of(System.getProperty("evaluation.fashionMnist", FashionMnist.DEBIAN_DIR.toString()));
    FashionMnist data = new FashionMnist(installed);
    LabeledImages test = data.read(FashionMnist.Split.TEST);
    assertEquals(10_000, test.count());
    assertEquals(28, test.height());
    assertEquals(28, test.width());
    int[] perCategory = new int[FashionMnist.CATEGORIES.size()];
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
