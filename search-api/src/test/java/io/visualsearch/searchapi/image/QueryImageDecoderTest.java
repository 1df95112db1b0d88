package io.visualsearch.searchapi.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.TestImages;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class QueryImageDecoderTest {

  final QueryImageDecoder decoder = new QueryImageDecoder(4_000_000);

  @Test
  void decodesJpegAndPngAndCropsToTheBox() {
    BufferedImage full = decoder.decode(TestImages.jpeg(200, 100, Color.WHITE, Color.RED), null);
    assertEquals(200, full.getWidth());
    assertEquals(100, full.getHeight());
    BufferedImage crop = decoder.decode(TestImages.png(200, 100, Color.WHITE, Color.BLUE), new CropBox(50, 25, 100, 50));
    assertEquals(100, crop.getWidth());
    assertEquals(50, crop.getHeight());
    // The crop is the product rectangle only: its centre pixel is the product colour.
    assertEquals(Color.BLUE.getRGB(), crop.getRGB(50, 25));
  }

  @Test
  void refusesWhatIsNotAnImage() {
    ApiException e = assertThrows(ApiException.class, () -> decoder.decode("GIF89a not really".getBytes(), null));
    assertEquals(415, e.status());
    assertEquals("unsupported_image_format", e.code());
  }

  @Test
  void refusesATruncatedJpeg() {
    byte[] jpeg = TestImages.jpeg(400, 300, Color.WHITE, Color.GREEN);
    byte[] truncated = Arrays.copyOf(jpeg, jpeg.length / 2);
    ApiException e = assertThrows(ApiException.class, () -> decoder.decode(truncated, null));
    assertEquals(422, e.status());
    assertEquals("corrupt_image", e.code());
  }

  @Test
  void refusesATruncatedPng() {
    byte[] png = TestImages.png(400, 300, Color.WHITE, Color.GREEN);
    ApiException e = assertThrows(ApiException.class, () -> decoder.decode(Arrays.copyOf(png, 60), null));
    assertEquals(422, e.status());
  }

  @Test
  void refusesADecompressionBombFromItsHeaderAlone() {
    // A valid PNG header claiming 100000 x 100000 pixels, followed by no pixel data at all.
    byte[] bomb = TestImages.pngHeader(100_000, 100_000);
    ApiException e = assertThrows(ApiException.class, () -> decoder.decode(bomb, null));
    assertEquals(413, e.status());
    assertEquals("image_too_large", e.code());
  }

  @Test
  void refusesACropOutsideTheImage() {
    byte[] jpeg = TestImages.jpeg(100, 100, Color.WHITE, Color.RED);
    ApiException e = assertThrows(ApiException.class, () -> decoder.decode(jpeg, new CropBox(50, 50, 60, 10)));
    assertEquals(400, e.status());
    assertEquals("crop_out_of_bounds", e.code());
  }
}
