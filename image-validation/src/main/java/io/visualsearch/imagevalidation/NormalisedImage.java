package io.visualsearch.imagevalidation;

/**
 * An accepted image, re-encoded: 8-bit sRGB RGB PNG, EXIF orientation applied, longest side at
 * most the policy's output side. {@code sha256} (lower-case hex of {@code png}) is its content
 * address in the object store, see {@link #objectKey()}.
 */
public record NormalisedImage(
    byte[] png, String sha256, int width, int height, String sourceFormat, int sourceWidth, int sourceHeight) {

  public static final String CONTENT_TYPE = "image/png";

  /** {@code images/<sha256>}. */
  public String objectKey() {
    return "images/" + sha256;
  }
}
