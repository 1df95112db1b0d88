package io.visualsearch.imagevalidation;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * An accepted image, re-encoded: 8-bit sRGB RGB PNG, EXIF orientation applied, longest side at
 * most the policy's output side. {@code sha256} (lower-case hex of {@code png}) is its content
 * address in the object store, see {@link #objectKey()}.
 */
public record NormalisedImage(
    byte[] png, String sha256, int width, int height, String sourceFormat, int sourceWidth, int sourceHeight) {

  public static final String CONTENT_TYPE = "image/png";

  /**
   * A stored normalised PNG's pixels, for the readers of {@code images/}: decoded from memory, since
   * {@code ImageIO.read(InputStream)} would first copy every image into a temporary file (ImageIO's
   * disk cache is on by default).
   *
   * @throws IOException when the bytes are not a readable image
   */
  public static BufferedImage decode(byte[] png) throws IOException {
    BufferedImage image = ImageIO.read(new MemoryCacheImageInputStream(new ByteArrayInputStream(png)));
    if (image == null) {
      throw new IOException("not a readable image (" + png.length + " bytes)");
    }
    return image;
  }

  /** {@code images/<sha256>}. */
  public String objectKey() {
    return "images/" + sha256;
  }
}
