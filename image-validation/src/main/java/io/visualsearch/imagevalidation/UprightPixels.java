package io.visualsearch.imagevalidation;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;

/**
 * What the normaliser does to pixels once they are decoded, for decoders that do not go through
 * it: 8-bit sRGB with transparency over white and grey mapped sample for sample, then a JPEG's
 * EXIF orientation. search-api decodes shoppers' photos itself (its own limits, crop regions) and
 * must see a photo as the catalog's copy of the same bytes was seen: phones store portrait photos
 * as landscape pixels plus the orientation tag, and a sideways query finds sideways look-alikes.
 *
 * <p>Coordinates a client sends (a crop box) are in the upright image, as browsers display it;
 * {@link #sourceRegion} maps them to the stored pixels a decoder can read as a region.
 */
public final class UprightPixels {

  private final int orientation;
  private final int storedWidth;
  private final int storedHeight;

  private UprightPixels(int orientation, int storedWidth, int storedHeight) {
    this.orientation = orientation;
    this.storedWidth = storedWidth;
    this.storedHeight = storedHeight;
  }

  /** For an image of {@code storedWidth × storedHeight} pixels as stored; only JPEGs carry an orientation here. */
  public static UprightPixels of(byte[] source, boolean jpeg, int storedWidth, int storedHeight) {
    return new UprightPixels(jpeg ? ExifOrientation.read(source) : ExifOrientation.NORMAL, storedWidth, storedHeight);
  }

  /** Width of the upright image. */
  public int width() {
    return transposed() ? storedHeight : storedWidth;
  }

  /** Height of the upright image. */
  public int height() {
    return transposed() ? storedWidth : storedHeight;
  }

  /** The stored pixels that become {@code upright} (a rectangle inside the upright image) once oriented. */
  public Rectangle sourceRegion(Rectangle upright) {
    int[] a = stored(upright.x, upright.y);
    int[] b = stored(upright.x + upright.width - 1, upright.y + upright.height - 1);
    int x = Math.min(a[0], b[0]);
    int y = Math.min(a[1], b[1]);
    return new Rectangle(x, y, Math.abs(a[0] - b[0]) + 1, Math.abs(a[1] - b[1]) + 1);
  }

  /**
   * Decoded pixels (the whole image, or the {@link #sourceRegion} of a crop, at any subsampling)
   * as 8-bit sRGB RGB, upright.
   */
  public BufferedImage apply(BufferedImage decoded) {
    return orient(SrgbConverter.toSrgb(decoded));
  }

  /**
   * The second step alone, on sRGB pixels: the validator converts first and lets the decoded
   * raster go before this copy is made.
   */
  BufferedImage orient(BufferedImage srgb) {
    return ExifOrientation.apply(srgb, orientation);
  }

  private boolean transposed() {
    return orientation >= 5;
  }

  /** The stored pixel shown at upright (ux, uy): the inverse of {@link ExifOrientation#apply}. */
  private int[] stored(int ux, int uy) {
    int w = storedWidth;
    int h = storedHeight;
    return switch (orientation) {
      case 2 -> new int[] {w - 1 - ux, uy};
      case 3 -> new int[] {w - 1 - ux, h - 1 - uy};
      case 4 -> new int[] {ux, h - 1 - uy};
      case 5 -> new int[] {uy, ux};
      case 6 -> new int[] {uy, h - 1 - ux};
      case 7 -> new int[] {w - 1 - uy, h - 1 - ux};
      case 8 -> new int[] {w - 1 - uy, ux};
      default -> new int[] {ux, uy};
    };
  }
}
