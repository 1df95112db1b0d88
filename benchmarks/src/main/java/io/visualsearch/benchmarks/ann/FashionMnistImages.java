package io.visualsearch.benchmarks.ann;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * The 28x28 grayscale images of one Fashion-MNIST split, read from the gzipped IDX files of Debian's
 * {@code dataset-fashion-mnist} ({@code /usr/share/datasets/fashion-mnist}). IDX: big-endian magic
 * 0x00000803, image count, rows, columns, then one unsigned byte per pixel, row-major.
 */
public final class FashionMnistImages {

  public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
  public static final int SIDE = 28;
  private static final int IMAGES_MAGIC = 0x00000803;

  private final byte[] pixels;
  private final int count;

  private FashionMnistImages(byte[] pixels, int count) {
    this.pixels = pixels;
    this.count = count;
  }

  /** {@code split} is {@code train} (60,000 images) or {@code t10k} (10,000). */
  public static FashionMnistImages read(Path dir, String split) throws IOException {
    Path file = dir.resolve(split + "-images-idx3-ubyte.gz");
    if (!Files.isRegularFile(file)) {
      throw new IOException(file + " not found: install the Debian package dataset-fashion-mnist");
    }
    try (InputStream raw = Files.newInputStream(file);
        DataInputStream in = new DataInputStream(new GZIPInputStream(raw, 1 << 16))) {
      int magic = in.readInt();
      int n = in.readInt();
      int rows = in.readInt();
      int cols = in.readInt();
      if (magic != IMAGES_MAGIC || rows != SIDE || cols != SIDE || n <= 0) {
        throw new IOException(file + " is not a Fashion-MNIST image file (magic " + Integer.toHexString(magic)
            + ", " + n + " images of " + rows + "x" + cols + ")");
      }
      byte[] px = new byte[n * SIDE * SIDE];
      in.readFully(px);
      return new FashionMnistImages(px, n);
    }
  }

  public int count() {
    return count;
  }

  /** A copy of image {@code i}, row-major, one byte per pixel. */
  public byte[] image(int i) {
    byte[] out = new byte[SIDE * SIDE];
    System.arraycopy(pixels, i * SIDE * SIDE, out, 0, out.length);
    return out;
  }
}
