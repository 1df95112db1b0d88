package io.visualsearch.defaultmodel;

/**
 * Deterministic test images from an integer formula (radial gradients, a ramp and a checkerboard,
 * different per image and channel). The parity reference script computes the same pixels in
 * JavaScript, so both sides feed bit-identical inputs without shipping image files.
 */
public final class SyntheticImages {

  private SyntheticImages() {}

  /** Pixel value of image {@code b} at row {@code y}, column {@code x}, channel {@code c}. */
  static int pixel(int b, int y, int x, int c) {
    int radial = (x * x + 2 * y * y) / (64 + 16 * c);
    int checker = (((x >> 3) ^ (y >> 3)) & 1) * 40;
    return (radial + x / 3 + 60 * b + checker + 17 * c) % 256;
  }

  /** A batch of {@code batch} images of {@code height} x {@code width}. */
  public static ImageBatch batch(int batch, int height, int width) {
    byte[] pixels = new byte[batch * height * width * 3];
    int i = 0;
    for (int b = 0; b < batch; b++) {
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          for (int c = 0; c < 3; c++) {
            pixels[i++] = (byte) pixel(b, y, x, c);
          }
        }
      }
    }
    return new ImageBatch(pixels, batch, height, width);
  }
}
