package io.visualsearch.imagevalidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class NormalisedImageTest {

  @Test
  void aStoredImageDecodesToThePixelsItWasNormalisedTo() throws IOException {
    BufferedImage source = HostileImages.marker(40, 30);
    ValidationResult.Accepted accepted = (ValidationResult.Accepted)
        new ImageValidator(ValidationPolicy.defaults()).validate(HostileImages.png(source));
    BufferedImage read = NormalisedImage.decode(accepted.image().png());
    assertEquals(40, read.getWidth());
    assertEquals(30, read.getHeight());
    for (int y = 0; y < 30; y += 7) {
      for (int x = 0; x < 40; x += 9) {
        assertEquals(source.getRGB(x, y) & 0xffffff, read.getRGB(x, y) & 0xffffff, "pixel " + x + "," + y);
      }
    }
  }

  @Test
  void aColourImageDecodesIntoRgbBytesInThatOrderEveryPixelExact() throws IOException {
    java.util.Random r = new java.util.Random(11);
    BufferedImage source = new BufferedImage(23, 17, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 17; y++) {
      for (int x = 0; x < 23; x++) {
        source.setRGB(x, y, r.nextInt(0x1000000));
      }
    }
    BufferedImage read = NormalisedImage.decode(HostileImages.png(source));
    byte[] bytes = ((DataBufferByte) read.getRaster().getDataBuffer()).getData();
    assertEquals(23 * 17 * 3, bytes.length, "three bytes a pixel, no padding");
    for (int y = 0; y < 17; y++) {
      for (int x = 0; x < 23; x++) {
        int c = source.getRGB(x, y) & 0xffffff;
        assertEquals(c, read.getRGB(x, y) & 0xffffff, "pixel " + x + "," + y);
        int i = (y * 23 + x) * 3;
        assertEquals(c, (bytes[i] & 0xff) << 16 | (bytes[i + 1] & 0xff) << 8 | bytes[i + 2] & 0xff,
            "R, G, B at " + x + "," + y);
      }
    }
  }

  @Test
  void bytesThatAreNoImageAreAnIoExceptionNotANull() {
    byte[] text = "not an image".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    assertThrows(IOException.class, () -> NormalisedImage.decode(text));
    byte[] png = HostileImages.png(HostileImages.marker(8, 8));
    assertThrows(IOException.class, () -> NormalisedImage.decode(Arrays.copyOf(png, 20)));
  }
}
