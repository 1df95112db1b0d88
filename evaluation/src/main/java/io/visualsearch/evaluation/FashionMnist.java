package io.visualsearch.evaluation;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads Fashion-MNIST from its four gzipped IDX files (Debian package {@code dataset-fashion-mnist}
 * installs them in {@link #DEBIAN_DIR}). IDX: big-endian magic {@code 0x00000803} (unsigned bytes,
 * three dimensions) for images and {@code 0x00000801} for labels, then the dimension sizes, then the
 * data.
 */
public final class FashionMnist {

  public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  /** Category names in label order, as the dataset's README lists them. */
  public static final List<String> CATEGORIES =
      List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

  private static final int IMAGES_MAGIC = 0x00000803;
  private static final int LABELS_MAGIC = 0x00000801;

  /** The two splits of the dataset. */
  public enum Split {
    /** 60,000 images: the catalog (gallery) and the only images training may use. */
    TRAIN("train"),
    /** 10,000 images: shopper queries, never indexed, never trained on. */
    TEST("t10k");

    private final String filePrefix;

    Split(String filePrefix) {
      this.filePrefix = filePrefix;
    }
  }

  private final Path dir;

  public FashionMnist(Path dir) {
    this.dir = dir;
  }

  public LabeledImages read(Split split) throws IOException {
    Path images = dir.resolve(split.filePrefix + "-images-idx3-ubyte.gz");
    Path labels = dir.resolve(split.filePrefix + "-labels-idx1-ubyte.gz");
    if (!Files.exists(images) || !Files.exists(labels)) {
      throw new NoSuchFileException(
          images + " / " + labels, null, "Fashion-MNIST not found (apt-get install dataset-fashion-mnist)");
    }
    int[] labelValues = readLabels(labels);
    try (DataInputStream in = open(images)) {
      expectMagic(in, IMAGES_MAGIC, images);
      int count = in.readInt();
      int height = in.readInt();
      int width = in.readInt();
      if (count != labelValues.length) {
        throw new IOException(images + " holds " + count + " images but " + labels + " " + labelValues.length + " labels");
      }
      byte[] pixels = new byte[Math.multiplyExact(Math.multiplyExact(count, height), width)];
      in.readFully(pixels);
      return new LabeledImages(pixels, labelValues, height, width);
    }
  }

  private static int[] readLabels(Path file) throws IOException {
    try (DataInputStream in = open(file)) {
      expectMagic(in, LABELS_MAGIC, file);
      int count = in.readInt();
      byte[] raw = new byte[count];
      in.readFully(raw);
      int[] labels = new int[count];
      for (int i = 0; i < count; i++) {
        labels[i] = raw[i] & 0xff;
        if (labels[i] >= CATEGORIES.size()) {
          throw new IOException(file + ": label " + labels[i] + " at " + i + " is not a Fashion-MNIST category");
        }
      }
      return labels;
    }
  }

  private static DataInputStream open(Path file) throws IOException {
    InputStream raw = Files.newInputStream(file);
    return new DataInputStream(new GZIPInputStream(raw, 1 << 16));
  }

  private static void expectMagic(DataInputStream in, int magic, Path file) throws IOException {
    int found = in.readInt();
    if (found != magic) {
      throw new IOException(String.format("%s: IDX magic 0x%08x, expected 0x%08x", file, found, magic));
    }
  }
}
