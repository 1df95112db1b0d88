package io.visualsearch.imagevalidation;

import java.util.Locale;
import java.util.Optional;

/**
 * The checks a header's declared size must pass before any decoder allocates for it, shared by
 * every decoder of untrusted images (the catalog's validator and search-api's query decoder), so a
 * file refused by one cannot take the other's heap. Each refusal says why; all of them mean "too
 * many pixels" to the caller.
 */
public final class DeclaredSize {

  private DeclaredSize() {}

  /**
   * Why an image of {@code format} (an ImageIO format name, lower case) declaring {@code width} ×
   * {@code height} cannot be decoded within {@code maxPixels}, or empty when it can. {@code data} is
   * the file itself, read only to tell a lossless WebP from a lossy one.
   */
  public static Optional<String> refusal(String format, int width, int height, long maxPixels, byte[] data) {
    long pixels = (long) width * height;
    if (pixels > maxPixels) {
      return Optional.of(String.format(Locale.ROOT, "the %s declares %dx%d = %d pixels, above the limit of %d",
          format, width, height, pixels, maxPixels));
    }
    if (format.equals("webp") && pixels > ValidationPolicy.MAX_LOSSLESS_WEBP_PIXELS
        && ContentSniffer.isLosslessWebp(data)) {
      return Optional.of(String.format(Locale.ROOT,
          "the lossless webp (or lossless alpha) declares %dx%d = %d pixels; lossless WebP is decoded whole, so it is limited to %d",
          width, height, pixels, ValidationPolicy.MAX_LOSSLESS_WEBP_PIXELS));
    }
    if (Math.max(width, height) > ValidationPolicy.MAX_SIDE) {
      // Decoders allocate whole rows, whatever the subsampling: a 50,000,000 x 1 PNG is within
      // the pixel limit, deflates to kilobytes and needed ~600 MB of row buffers.
      return Optional.of(String.format(Locale.ROOT, "the %s declares %dx%d pixels; a side longer than %d px is refused",
          format, width, height, ValidationPolicy.MAX_SIDE));
    }
    return Optional.empty();
  }
}
