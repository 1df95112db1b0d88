package io.visualsearch.imagevalidation;

import java.awt.Graphics2D;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * Any decoded image (palette, grayscale, 16-bit, alpha, ICC-tagged) to 8-bit sRGB RGB, with
 * transparency composited over white (how storefronts show product cut-outs).
 *
 * <p>Grayscale is mapped sample-for-sample (v → v,v,v). Java tags decoded gray images with its
 * linear-gamma gray space, so a colour-managed conversion would brighten every mid-tone, while
 * the stored values are already display-encoded like sRGB.
 */
final class SrgbConverter {

  private SrgbConverter() {}

  static BufferedImage toSrgb(BufferedImage src) {
    int type = src.getType();
    if (type == BufferedImage.TYPE_INT_RGB) {
      return src;
    }
    int w = src.getWidth();
    int h = src.getHeight();
    BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    if (type == BufferedImage.TYPE_3BYTE_BGR || type == BufferedImage.TYPE_INT_BGR) {
      // 8-bit opaque sRGB (what JPEGs decode to): a channel copy, done by Java2D's blit loops
      // rather than a colour-model call per pixel, with the same values.
      Graphics2D g = dst.createGraphics();
      try {
        g.drawImage(src, 0, 0, null);
      } finally {
        g.dispose();
      }
      return dst;
    }
    ColorModel cm = src.getColorModel();
    boolean gray = cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(cm instanceof IndexColorModel);
    int[] row = new int[w];
    if (gray) {
      Raster raster = src.getRaster();
      int grayMax = (1 << cm.getComponentSize(0)) - 1;
      boolean alpha = cm.hasAlpha() && raster.getNumBands() > 1;
      int alphaMax = alpha ? (1 << cm.getComponentSize(1)) - 1 : 1;
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int v = scale(raster.getSample(x, y, 0), grayMax);
          int a = alpha ? scale(raster.getSample(x, y, 1), alphaMax) : 255;
          int c = overWhite(v, a);
          row[x] = (c << 16) | (c << 8) | c;
        }
        dst.setRGB(0, y, w, 1, row, 0, w);
      }
      return dst;
    }
    boolean alpha = cm.hasAlpha();
    for (int y = 0; y < h; y++) {
      src.getRGB(0, y, w, 1, row, 0, w); // the colour model converts to 8-bit sRGB ARGB
      if (alpha) {
        for (int x = 0; x < w; x++) {
          int p = row[x];
          int a = p >>> 24;
          row[x] = (overWhite((p >> 16) & 0xFF, a) << 16) | (overWhite((p >> 8) & 0xFF, a) << 8)
              | overWhite(p & 0xFF, a);
        }
      }
      dst.setRGB(0, y, w, 1, row, 0, w);
    }
    return dst;
  }

  private static int scale(int sample, int max) {
    return max == 255 ? sample : (sample * 255 + max / 2) / max;
  }

  private static int overWhite(int channel, int alpha) {
    return (channel * alpha + 255 * (255 - alpha) + 127) / 255;
  }
}
