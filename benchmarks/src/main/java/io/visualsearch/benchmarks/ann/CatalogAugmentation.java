package io.visualsearch.benchmarks.ann;

/**
 * Deterministic variants of a 28x28 catalog image, so the benchmark gallery can grow beyond the
 * 60,000 training images with vectors that are still real embeddings of real-looking product
 * photos: mirrored, shifted, zoomed and relit copies, as a catalog holds several shots of one item.
 * Variant 0 is the image itself.
 */
final class CatalogAugmentation {

  static final int VARIANTS = 8;
  private static final int S = FashionMnistImages.SIDE;

  private CatalogAugmentation() {}

  static byte[] apply(int variant, byte[] img) {
    return switch (variant) {
      case 0 -> img;
      case 1 -> mirror(img);
      case 2 -> shift(img, 2, 1);
      case 3 -> zoom(img, 3);
      case 4 -> shift(mirror(img), -1, -2);
      case 5 -> relight(img, 0.75, 30);
      case 6 -> zoom(mirror(img), 2);
      case 7 -> relight(shift(img, -2, 2), 1.2, -10);
      default -> throw new IllegalArgumentException("variant " + variant + " of " + VARIANTS);
    };
  }

  private static byte[] mirror(byte[] img) {
    byte[] out = new byte[img.length];
    for (int y = 0; y < S; y++) {
      for (int x = 0; x < S; x++) {
        out[y * S + x] = img[y * S + (S - 1 - x)];
      }
    }
    return out;
  }

  /** Moves the content by (dx, dy) pixels; uncovered pixels are background (0). */
  private static byte[] shift(byte[] img, int dx, int dy) {
    byte[] out = new byte[img.length];
    for (int y = 0; y < S; y++) {
      for (int x = 0; x < S; x++) {
        int sx = x - dx;
        int sy = y - dy;
        if (sx >= 0 && sx < S && sy >= 0 && sy < S) {
          out[y * S + x] = img[sy * S + sx];
        }
      }
    }
    return out;
  }

  /** Crops {@code margin} pixels on every side and scales back to 28x28 (bilinear). */
  private static byte[] zoom(byte[] img, int margin) {
    byte[] out = new byte[img.length];
    double scale = (S - 2.0 * margin) / S;
    for (int y = 0; y < S; y++) {
      for (int x = 0; x < S; x++) {
        double sx = margin + (x + 0.5) * scale - 0.5;
        double sy = margin + (y + 0.5) * scale - 0.5;
        int x0 = (int) Math.floor(sx);
        int y0 = (int) Math.floor(sy);
        double fx = sx - x0;
        double fy = sy - y0;
        double v = (1 - fx) * (1 - fy) * px(img, x0, y0) + fx * (1 - fy) * px(img, x0 + 1, y0)
            + (1 - fx) * fy * px(img, x0, y0 + 1) + fx * fy * px(img, x0 + 1, y0 + 1);
        out[y * S + x] = (byte) clamp(v);
      }
    }
    return out;
  }

  private static byte[] relight(byte[] img, double gain, double offset) {
    byte[] out = new byte[img.length];
    for (int i = 0; i < img.length; i++) {
      out[i] = (byte) clamp((img[i] & 0xff) * gain + offset);
    }
    return out;
  }

  private static int px(byte[] img, int x, int y) {
    x = Math.max(0, Math.min(S - 1, x));
    y = Math.max(0, Math.min(S - 1, y));
    return img[y * S + x] & 0xff;
  }

  private static int clamp(double v) {
    return (int) Math.max(0, Math.min(255, Math.round(v)));
  }
}
