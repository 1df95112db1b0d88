package io.visualsearch.searchapi.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.imagevalidation.DecodeBudget;
import io.visualsearch.imagevalidation.Downscaler;
import io.visualsearch.imagevalidation.HostileImages;
import io.visualsearch.imagevalidation.ImageValidator;
import io.visualsearch.imagevalidation.NormalisedImage;
import io.visualsearch.imagevalidation.ValidationPolicy;
import io.visualsearch.imagevalidation.ValidationResult;
import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.TestImages;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class QueryImageDecoderTest {

  final QueryImageDecoder decoder = new QueryImageDecoder(4_000_000, ValidationPolicy.defaults().maxOutputSide());

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
    ApiException e = assertThrows(ApiException.class, () -> decoder.decode("II*\0 a TIFF, say".getBytes(), null));
    assertEquals(415, e.status());
    assertEquals("unsupported_image_format", e.code());
    assertEquals("the image is not a JPEG, PNG, WebP, GIF or BMP file", e.getMessage());
  }

  @Test
  void stillGifsAndBmpsTheCatalogAcceptsAreSearchedAsTheirCatalogCopies() throws IOException {
    // The catalog indexes GIF and BMP product pictures; a shopper uploading one got 415.
    BufferedImage picture = HostileImages.marker(64, 48);
    for (byte[] file : new byte[][] {HostileImages.gif(picture), HostileImages.bmp(picture)}) {
      BufferedImage query = decoder.decode(file, null);
      assertSamePixels(catalogCopy(file), query);
      CropBox box = new CropBox(3, 5, 17, 11);
      assertSamePixels(query.getSubimage(box.x(), box.y(), box.width(), box.height()), decoder.decode(file, box));
    }
  }

  @Test
  void gifsAndBmpsTheCatalogRefusesAreRefusedForTheCatalogsReason() {
    BufferedImage picture = HostileImages.marker(64, 48);
    ApiException animated = assertThrows(ApiException.class,
        () -> decoder.decode(HostileImages.gif(picture, HostileImages.marker(48, 64)), null));
    assertEquals(422, animated.status());
    assertEquals("animated_image", animated.code());
    assertTrue(animated.getMessage().contains("animated images are not accepted"), animated.getMessage());
    // Cut before its trailer: the JDK decoder would fill the rest in silently.
    ApiException cut = assertThrows(ApiException.class,
        () -> decoder.decode(HostileImages.truncated(HostileImages.gif(picture), 0.7), null));
    assertEquals(422, cut.status());
    assertEquals("corrupt_image", cut.code());
    // A BMP wrapping a PNG declares what the JDK reader allocates (2 GiB here) for a second reader.
    ApiException wrapped = assertThrows(ApiException.class, () -> decoder.decode(
        HostileImages.bmpDeclaring(5, 0x7FFF_FFF0L, 54, HostileImages.png(picture)), null));
    assertEquals(415, wrapped.status());
    assertEquals("unsupported_image_format", wrapped.code());
    assertTrue(wrapped.getMessage().contains("wrapping a PNG"), wrapped.getMessage());
    // This service's pixel limit holds for them as for any format.
    QueryImageDecoder tight = new QueryImageDecoder(1000, 512);
    for (byte[] file : new byte[][] {HostileImages.gif(picture), HostileImages.bmp(picture)}) {
      ApiException large = assertThrows(ApiException.class, () -> tight.decode(file, null));
      assertEquals(413, large.status());
      assertEquals("image_too_large", large.code());
    }
  }

  @Test
  void aCropOfALosslessJpegIsTheCropNotTheWholePhoto() throws IOException {
    // TwelveMonkeys' lossless (SOF3) decoder ignores the source region: a crop searched the whole photo.
    BufferedImage picture = HostileImages.marker(80, 40);
    for (boolean grey : new boolean[] {false, true}) {
      byte[] lossless = LosslessJpeg.encode(picture, grey);
      BufferedImage whole = decoder.decode(lossless, null);
      assertSamePixels(catalogCopy(lossless), whole);
      if (!grey) {
        assertSamePixels(picture, whole); // lossless: the very pixels encoded
      }
      CropBox box = new CropBox(3, 5, 17, 11);
      assertSamePixels(whole.getSubimage(box.x(), box.y(), box.width(), box.height()), decoder.decode(lossless, box));
    }
    // In the upright photo, as for any JPEG.
    byte[] turned = HostileImages.withExifOrientation(LosslessJpeg.encode(picture, false), 6);
    BufferedImage upright = decoder.decode(turned, null);
    assertEquals(40, upright.getWidth());
    CropBox box = new CropBox(20, 30, 15, 40);
    assertSamePixels(upright.getSubimage(box.x(), box.y(), box.width(), box.height()), decoder.decode(turned, box));
  }

  @Test
  void aCropOfALargeLosslessJpegIsScaledAsACropOfTheFullSizePixels() {
    BufferedImage photo = new BufferedImage(1600, 1200, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < photo.getHeight(); y++) {
      for (int x = 0; x < photo.getWidth(); x++) {
        photo.setRGB(x, y, ((x / 3 + y / 2) % 2 == 0) ? 0xd03020 : 0x2040e0);
      }
    }
    BufferedImage crop = decoder.decode(LosslessJpeg.encode(photo, false), new CropBox(100, 100, 1000, 500));
    assertEquals(512, crop.getWidth());
    assertEquals(256, crop.getHeight());
    assertSamePixels(Downscaler.fit(photo.getSubimage(100, 100, 1000, 500), 512), crop);
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
  void refusesAJpegWhosePixelsAreGarbledAsTheCatalogDoes() {
    ApiException e = assertThrows(ApiException.class, () -> decoder.decode(HostileImages.jpegWithBadHuffmanCode(), null));
    assertEquals(422, e.status());
    assertEquals("corrupt_image", e.code());
    assertTrue(e.getMessage().contains("bad Huffman code"), e.getMessage());
  }

  @Test
  void refusesATruncatedPng() {
    byte[] png = TestImages.png(400, 300, Color.WHITE, Color.GREEN);
    ApiException e = assertThrows(ApiException.class, () -> decoder.decode(Arrays.copyOf(png, 60), null));
    assertEquals(422, e.status());
  }

  @Test
  void refusesAJpegWithFarMoreScansThanAnyEncoderWritesBeforeDecodingIt() {
    byte[] scans = HostileImages.jpegWithRepeatedScans(HostileImages.marker(64, 48), 500);
    ApiException e = assertThrows(ApiException.class, () -> decoder.decode(scans, null));
    assertEquals(422, e.status());
    assertEquals("too_many_scans", e.code());
    assertEquals(48, decoder.decode(HostileImages.jpeg(HostileImages.marker(64, 48), true), null).getHeight(),
        "an ordinary progressive JPEG is decoded");
  }

  @Test
  void concurrentQueriesDecodeOnlyWithinTheSharedPixelBudget() throws Exception {
    DecodeBudget budget = new DecodeBudget(4_000_000);
    QueryImageDecoder budgeted = new QueryImageDecoder(4_000_000, 512, budget);
    DecodeBudget.Grant everything = budget.acquire(4_000_000);
    AtomicReference<BufferedImage> decoded = new AtomicReference<>();
    Thread query = new Thread(() -> decoded.set(budgeted.decode(TestImages.png(400, 300, Color.WHITE, Color.GREEN), null)));
    query.start();
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (query.getState() != Thread.State.WAITING && System.nanoTime() < giveUp) {
      Thread.onSpinWait();
    }
    assertNull(decoded.get(), "no pixels left: the photo waits before decoding");
    everything.close();
    query.join(30_000);
    assertEquals(400, decoded.get().getWidth());
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
  void refusesWhatTheCatalogRefusesFromItsHeaderWithinThePixelLimit() {
    // Within 40 megapixels, but a PNG one row tall makes the reader allocate row buffers of
    // hundreds of megabytes, and a lossless WebP is decoded into a full-size raster: the
    // catalog's validator refuses both, and a shopper's upload must not get further.
    QueryImageDecoder roomy = new QueryImageDecoder(40_000_000, 512);
    // Each file is refused for its own reason: the row for its side, the raster for its losslessness.
    assertRefusedAsTooLarge(roomy, HostileImages.pngDeclaring(40_000_000, 1, 16),
        "declares 40000000x1 pixels; a side longer than " + ValidationPolicy.MAX_SIDE + " px is refused");
    assertRefusedAsTooLarge(roomy, HostileImages.losslessWebpDeclaring(6000, 6000),
        "lossless webp (or lossless alpha) declares 6000x6000");
    assertEquals(40, roomy.decode(HostileImages.jpeg(HostileImages.marker(80, 40), false), null).getHeight());
  }

  private static void assertRefusedAsTooLarge(QueryImageDecoder decoder, byte[] hostile, String reasonFragment) {
    ApiException e = assertThrows(ApiException.class, () -> decoder.decode(hostile, null));
    assertEquals(413, e.status());
    assertEquals("image_too_large", e.code());
    assertTrue(e.getMessage().contains(reasonFragment), e.getMessage());
  }

  @Test
  void refusesACropOutsideTheImage() {
    byte[] jpeg = TestImages.jpeg(100, 100, Color.WHITE, Color.RED);
    ApiException e = assertThrows(ApiException.class, () -> decoder.decode(jpeg, new CropBox(50, 50, 60, 10)));
    assertEquals(400, e.status());
    assertEquals("crop_out_of_bounds", e.code());
  }

  @Test
  void aPortraitPhonePhotoIsSearchedUprightAsItsCatalogCopyWasStored() throws IOException {
    // Stored as landscape pixels plus EXIF orientation 6 ("rotate 90° clockwise to view").
    byte[] phone = HostileImages.withExifOrientation(HostileImages.jpeg(HostileImages.marker(80, 40), false), 6);
    BufferedImage query = decoder.decode(phone, null);
    assertEquals(40, query.getWidth());
    assertEquals(80, query.getHeight());
    assertSamePixels(catalogCopy(phone), query);
  }

  @Test
  void aCropIsInTheUprightPhotoAsTheBrowserShowsIt() throws IOException {
    for (int orientation = 1; orientation <= 8; orientation++) {
      byte[] phone = HostileImages.withExifOrientation(HostileImages.jpeg(HostileImages.marker(80, 40), false),
          orientation);
      BufferedImage upright = decoder.decode(phone, null);
      CropBox box = new CropBox(3, 5, 17, 11);
      BufferedImage crop = decoder.decode(phone, box);
      assertSamePixels(upright.getSubimage(box.x(), box.y(), box.width(), box.height()), crop);
    }
    // Bounds are the upright image's: 40 wide once turned, so x 30 + 20 falls outside.
    byte[] turned = HostileImages.withExifOrientation(HostileImages.jpeg(HostileImages.marker(80, 40), false), 6);
    ApiException e = assertThrows(ApiException.class, () -> decoder.decode(turned, new CropBox(30, 0, 20, 10)));
    assertEquals("crop_out_of_bounds", e.code());
  }

  @Test
  void greyAndTransparentPicturesBecomeTheSamePixelsAsTheCatalogsCopies() throws IOException {
    // A grey PNG is mapped sample for sample and transparency is white, exactly as the normaliser
    // does for the catalog.
    for (byte[] png : new byte[][] {HostileImages.pngGray(32, 24, 100, false), HostileImages.pngWithAlpha(32, 24)}) {
      BufferedImage query = decoder.decode(png, null);
      assertSamePixels(catalogCopy(png), query);
    }
    assertEquals(0x646464, decoder.decode(HostileImages.pngGray(8, 8, 100, false), null).getRGB(3, 3) & 0xffffff);
  }

  @Test
  void catalogPicturesTheDecoderWarnsAboutAreSearchedFromTheirCatalogCopysPixels() throws IOException {
    // Warnings with whole pixels: a CMYK JPEG without a profile (decoded with a generic one) and a
    // damaged profile the decoder ignores. The catalog accepts both; this decoder answered 422.
    byte[] cmyk = HostileImages.resource("cmyk.jpg");
    byte[] damagedProfile = HostileImages.withIccProfile(HostileImages.jpeg(HostileImages.marker(64, 48), false),
        new byte[40]);
    for (byte[] jpeg : new byte[][] {cmyk, damagedProfile}) {
      assertSamePixels(catalogCopy(jpeg), decoder.decode(jpeg, null));
    }
  }

  @Test
  void aLargePhotoIsScaledDownAsItsCatalogCopyWas() throws IOException {
    // 1600x1200 with detail finer than the 4x reduction: a single-step resize would alias it.
    BufferedImage photo = new BufferedImage(1600, 1200, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < photo.getHeight(); y++) {
      for (int x = 0; x < photo.getWidth(); x++) {
        photo.setRGB(x, y, ((x / 3 + y / 2) % 2 == 0) ? 0xd03020 : 0x2040e0);
      }
    }
    byte[] jpeg = HostileImages.withExifOrientation(HostileImages.jpeg(photo, false), 8);
    BufferedImage query = decoder.decode(jpeg, null);
    assertEquals(384, query.getWidth());
    assertEquals(512, query.getHeight());
    assertSamePixels(catalogCopy(jpeg), query);
    // A crop is scaled as if it had been the photo: 1000 px tall in the upright photo, fitted to 512.
    BufferedImage crop = decoder.decode(jpeg, new CropBox(100, 100, 500, 1000));
    assertEquals(256, crop.getWidth());
    assertEquals(512, crop.getHeight());
  }

  private static BufferedImage catalogCopy(byte[] bytes) throws IOException {
    ValidationResult.Accepted a = (ValidationResult.Accepted) new ImageValidator(ValidationPolicy.defaults()).validate(bytes);
    return NormalisedImage.decode(a.image().png());
  }

  private static void assertSamePixels(BufferedImage expected, BufferedImage actual) {
    assertEquals(expected.getWidth(), actual.getWidth(), "width");
    assertEquals(expected.getHeight(), actual.getHeight(), "height");
    for (int y = 0; y < expected.getHeight(); y++) {
      for (int x = 0; x < expected.getWidth(); x++) {
        assertEquals(expected.getRGB(x, y) & 0xffffff, actual.getRGB(x, y) & 0xffffff, "pixel " + x + "," + y);
      }
    }
  }
}
