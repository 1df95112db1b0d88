package io.visualsearch.samplecatalog;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fashion-MNIST as Debian's {@code dataset-fashion-mnist} installs it: 60,000 training images
 * (the catalog) and 10,000 test images (shopper queries only — never in a feed or an index),
 * 28×28 grayscale with labels 0..9. Each split is loaded fully (47 MB for training) on first
 * use.
 */
public final class FashionMnist {

  /** Where the Debian package puts the files. */
  public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  public static final int SIDE = 28;

  /** One split: images and their labels. */
  public static final class Split {
    private final String name;
    private final byte[] pixels;
    private final byte[] labels;
    private final int count;

    private Split(String name, byte[] pixels, byte[] labels, int count) {
      this.name = name;
      this.pixels = pixels;
      this.labels = labels;
      this.count = count;
    }

    public String name() {
      return name;
    }

    public int size() {
      return count;
    }

    /** Row-major 28×28 gray levels (0 = background, 255 = ink), a fresh copy. */
    public byte[] image(int index) {
      checkIndex(index);
      byte[] out = new byte[SIDE * SIDE];
      System.arraycopy(pixels, index * SIDE * SIDE, out, 0, out.length);
      return out;
    }

    public int label(int index) {
      checkIndex(index);
      return labels[index] & 0xFF;
    }

    public FashionCategory category(int index) {
      return FashionCategory.ofLabel(label(index));
    }

    private void checkIndex(int index) {
      if (index < 0 || index >= count) {
        throw new IndexOutOfBoundsException(name + " has " + count + " images, no index " + index);
      }
    }
  }

  private final Path directory;
  private Split train;
  private Split test;

  public FashionMnist(Path directory) {
    this.directory = directory;
  }

  /** The Debian package's location. */
  public static FashionMnist debian() {
    return new FashionMnist(DEBIAN_DIR);
  }

  public boolean isAvailable() {
    return Files.isReadable(directory.resolve("train-images-idx3-ubyte.gz"));
  }

  /** The 60,000 catalog images. */
  public synchronized Split train() throws IOException {
    if (train == null) {
      train = load("train", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");
    }
    return train;
  }

  /** The 10,000 query images: for evaluation queries only, never for feeds or indexes. */
  public synchronized Split test() throws IOException {
    if (test == null) {
      test = load("test", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");
    }
    return test;
  }

  private Split load(String name, String imagesFile, String labelsFile) throws IOException {
    IdxReader.IdxData images = IdxReader.read(directory.resolve(imagesFile), 3);
    IdxReader.IdxData labels = IdxReader.read(directory.resolve(labelsFile), 1);
    int count = images.dimensions()[0];
    if (images.dimensions()[1] != SIDE || images.dimensions()[2] != SIDE) {
      throw new IOException(imagesFile + ": images are not 28x28");
    }
    if (labels.dimensions()[0] != count) {
      throw new IOException(name + ": " + count + " images but " + labels.dimensions()[0] + " labels");
    }
    for (byte label : labels.data()) {
      if ((label & 0xFF) > 9) {
        throw new IOException(labelsFile + ": label " + (label & 0xFF) + " outside 0..9");
      }
    }
    return new Split(name, images.data(), labels.data(), count);
  }
}
