package io.visualsearch.imagevalidation;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.SampleModel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;
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
   * disk cache is on by default). A colour image is decoded into R, G, B bytes in that order (the
   * PNG's own), not the BGR layout {@code ImageIO.read} picks: each row is then copied as it is
   * decoded, and the model client sends the raster's array as it stands. Reordering every pixel
   * twice, into BGR and back, took a sixth of the decode at 224 px.
   *
   * @throws IOException when the bytes are not a readable image
   */
  public static BufferedImage decode(byte[] png) throws IOException {
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(png))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new IOException("not a readable image (" + png.length + " bytes)");
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        ImageReadParam param = reader.getDefaultReadParam();
        for (Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0); types.hasNext(); ) {
          ImageTypeSpecifier type = types.next();
          if (isRgbBytes(type.getSampleModel()) && !type.getColorModel().hasAlpha()
              && type.getColorModel().getColorSpace().isCS_sRGB()) {
            param.setDestinationType(type);
            break;
          }
        }
        return reader.read(0, param);
      } finally {
        reader.dispose();
      }
    }
  }

  private static boolean isRgbBytes(SampleModel model) {
    return model instanceof PixelInterleavedSampleModel m && m.getDataType() == DataBuffer.TYPE_BYTE
        && m.getNumBands() == 3 && m.getPixelStride() == 3 && Arrays.equals(m.getBandOffsets(), new int[] {0, 1, 2});
  }

  /** {@code images/<sha256>}. */
  public String objectKey() {
    return objectKey(sha256);
  }

  /** Where the normalised image of content hash {@code sha256} is stored: {@code images/<sha256>}. */
  public static String objectKey(String sha256) {
    return "images/" + sha256;
  }

  /** Whether {@code s} is a content hash as this record's {@code sha256}: 64 lower-case hex digits. */
  public static boolean isSha256(String s) {
    return s != null && s.matches("[0-9a-f]{64}");
  }
}
