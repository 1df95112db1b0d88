package io.visualsearch.imagevalidation;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * Fits an image into a square of {@code maxSide}, keeping its aspect ratio. Bilinear steps of at
 * most one halving each: a single bilinear step from far above the target skips most source
 * pixels and aliases; halving repeatedly averages them all, close to an area filter at a
 * fraction of its cost.
 */
public final class Downscaler {

  private Downscaler() {}

  /**
   * The subsampling step to decode a {@code width × height} image (or region) at when it will be
   * fitted to {@code maxSide}: at least twice the output side is kept for a clean downscale.
   */
  public static int decodeStep(int width, int height, int maxSide) {
    return Math.max(1, Math.max(width, height) / (2 * maxSide));
  }

  public static BufferedImage fit(BufferedImage src, int maxSide) {
    int w = src.getWidth();
    int h = src.getHeight();
    if (Math.max(w, h) <= maxSide) {
      return src;
    }
    double scale = (double) maxSide / Math.max(w, h);
    int targetW = Math.max(1, (int) Math.round(w * scale));
    int targetH = Math.max(1, (int) Math.round(h * scale));
    BufferedImage current = src;
    while (current.getWidth() != targetW || current.getHeight() != targetH) {
      int nextW = Math.max(targetW, current.getWidth() / 2);
      int nextH = Math.max(targetH, current.getHeight() / 2);
      current = resize(current, nextW, nextH);
    }
    return current;
  }

  private static BufferedImage resize(BufferedImage src, int w, int h) {
    BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = dst.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.drawImage(src, 0, 0, w, h, null);
    } finally {
      g.dispose();
    }
    return dst;
  }
}
