package io.visualsearch.imagevalidation;

import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Limits for untrusted images.
 *
 * @param maxInputBytes encoded size limit
 * @param maxPixels declared width × height limit, checked from the header before decoding
 * @param maxOutputSide longest side of the normalised output; larger images are downscaled
 * @param minSide shortest acceptable side of the source
 * @param formats accepted ImageIO format names (lower case: jpeg, png, gif, webp, bmp)
 */
public record ValidationPolicy(long maxInputBytes, long maxPixels, int maxOutputSide, int minSide, Set<String> formats) {

  /** Longest side accepted, whatever the pixel count: far beyond any camera, and decoders buffer whole rows. */
  public static final int MAX_SIDE = 30_000;

  /**
   * Pixel limit of a lossless WebP. Its decoder fills a full-size 4-byte raster before any
   * subsampling: a 50-megapixel one holds 200 MB of heap for a file of a few kilobytes.
   */
  public static final long MAX_LOSSLESS_WEBP_PIXELS = 16_000_000L;

  public ValidationPolicy {
    if (maxInputBytes < 1 || maxPixels < 1 || maxOutputSide < 1 || minSide < 1) {
      throw new IllegalArgumentException("limits must be positive");
    }
    formats = formats.stream().map(f -> f.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
  }

  /** 20 MiB, 50 megapixels, 512 px output, any size ≥ 1 px, JPEG/PNG/GIF/WebP/BMP. */
  public static ValidationPolicy defaults() {
    return new ValidationPolicy(20L << 20, 50_000_000L, 512, 1, Set.of("jpeg", "png", "gif", "webp", "bmp"));
  }

  public ValidationPolicy withMaxOutputSide(int side) {
    return new ValidationPolicy(maxInputBytes, maxPixels, side, minSide, formats);
  }

  public ValidationPolicy withMaxPixels(long pixels) {
    return new ValidationPolicy(maxInputBytes, pixels, maxOutputSide, minSide, formats);
  }

  public ValidationPolicy withMinSide(int side) {
    return new ValidationPolicy(maxInputBytes, maxPixels, maxOutputSide, side, formats);
  }
}
