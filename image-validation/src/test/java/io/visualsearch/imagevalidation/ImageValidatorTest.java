package io.visualsearch.imagevalidation;

import static io.visualsearch.imagevalidation.HostileImages.*;
import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The hostile-image suite. Runs with -Xmx96m (see the pom): the 50,000 × 50,000 PNG would need
 * about 7 GB if it were ever allocated.
 */
class ImageValidatorTest {

  private final ImageValidator validator = new ImageValidator(ValidationPolicy.defaults());

  private NormalisedImage accepted(byte[] data) {
    ValidationResult result = validator.validate(data);
    if (result instanceof ValidationResult.Accepted a) {
      return a.image();
    }
    return fail("expected the image to be accepted, got " + result);
  }

  private ValidationResult.Rejected rejected(byte[] data, RejectReason expected) {
    ValidationResult result = validator.validate(data);
    ValidationResult.Rejected r = assertInstanceOf(ValidationResult.Rejected.class, result);
    assertEquals(expected, r.reason(), r.message());
    assertFalse(r.message().isBlank());
    return r;
  }

  private static BufferedImage decode(NormalisedImage image) throws Exception {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(image.png()));
    assertEquals(image.width(), img.getWidth());
    assertEquals(image.height(), img.getHeight());
    return img;
  }

  private static void assertRgb(int expected, int actual, int tolerance) {
    for (int shift = 0; shift <= 16; shift += 8) {
      int e = (expected >> shift) & 0xFF;
      int a = (actual >> shift) & 0xFF;
      assertTrue(Math.abs(e - a) <= tolerance,
          String.format("expected ~%06X, got %06X", expected & 0xFFFFFF, actual & 0xFFFFFF));
    }
  }

  @Test
  void zeroBytesAreEmpty() {
    rejected(new byte[0], RejectReason.EMPTY);
  }

  @Test
  void htmlServedAsJpegIsNotAnImage() {
    assertTrue(rejected(html(), RejectReason.NOT_AN_IMAGE).message().contains("HTML"));
  }

  @Test
  void randomBytesAreNotAnImage() {
    rejected(noise(4096), RejectReason.NOT_AN_IMAGE);
  }

  @Test
  void truncatedBaselineJpeg() {
    rejected(truncated(jpeg(marker(64, 48), false), 0.6), RejectReason.TRUNCATED);
  }

  @Test
  void truncatedProgressiveJpeg() {
    rejected(truncated(jpeg(marker(64, 48), true), 0.6), RejectReason.TRUNCATED);
  }

  @Test
  void truncatedPng() {
    rejected(truncated(png(marker(64, 48)), 0.7), RejectReason.TRUNCATED);
  }

  @Test
  void truncatedGif() {
    rejected(truncated(gif(marker(64, 48)), 0.7), RejectReason.TRUNCATED);
  }

  @Test
  void truncatedWebp() {
    rejected(truncated(resource("lossy.webp"), 0.6), RejectReason.TRUNCATED);
  }

  @Test
  void bytesAfterTheJpegEndMarkerAreNotPartOfTheImage() {
    // A phone's motion photo is a JPEG with a video appended after EOI, whose bytes may hold
    // FF DA anywhere: neither a scan start without an end after it nor a pile of them counts.
    for (boolean progressive : new boolean[] {false, true}) {
      byte[] jpeg = jpeg(marker(64, 48), progressive);
      String photo = accepted(jpeg).sha256();
      assertEquals(photo, accepted(concat(jpeg, new byte[] {(byte) 0xFF, (byte) 0xDA, 0x00, 0x01})).sha256());
      byte[] scanMarkers = new byte[2 * (JpegScans.MAX + 1)];
      for (int i = 0; i < scanMarkers.length; i += 2) {
        scanMarkers[i] = (byte) 0xFF;
        scanMarkers[i + 1] = (byte) 0xDA;
      }
      byte[] withTrailer = concat(jpeg, scanMarkers);
      assertEquals(JpegScans.count(jpeg), JpegScans.count(withTrailer));
      assertEquals(photo, accepted(withTrailer).sha256());
    }
  }

  @Test
  void anExifThumbnailsEndMarkerIsNotTheImagesEnd() {
    byte[] thumbnail = jpeg(marker(16, 12), true);
    assertEquals(10, JpegScans.count(withThumbnail(jpeg(marker(64, 48), true), thumbnail)), "the image's scans only");
    rejected(truncated(withThumbnail(jpeg(marker(64, 48), false), thumbnail), 0.9), RejectReason.TRUNCATED);
    rejected(withThumbnail(jpegWithRepeatedScans(marker(64, 48), 500), thumbnail), RejectReason.TOO_MANY_SCANS);
  }

  @Test
  void headerOnlyJpegIsTruncated() {
    rejected(truncated(jpeg(marker(64, 48), false), 0.05), RejectReason.TRUNCATED);
  }

  @Test
  void pngDeclaringFiftyThousandSquaredIsRefusedFromTheHeader() {
    ValidationResult.Rejected r = rejected(pngDeclaring(50_000, 50_000, 8), RejectReason.TOO_MANY_PIXELS);
    assertTrue(r.message().contains("50000x50000"), r.message());
  }

  @Test
  void aPngOneRowTallAndFortyMillionWideIsRefusedFromTheHeader() {
    // 40,000,000 pixels are within the pixel limit, but its 16-bit rows alone are ~480 MB: without
    // the side limit this test JVM runs out of memory decoding it.
    ValidationResult.Rejected r = rejected(pngDeclaring(40_000_000, 1, 16), RejectReason.TOO_MANY_PIXELS);
    assertTrue(r.message().contains("40000000x1"), r.message());
  }

  @Test
  void largeButAllowedPngIsDecodedSubsampledWithinASmallHeap() throws Exception {
    // 6000 x 6000 RGB would be a 108 MB raster, more than this test JVM's whole heap.
    NormalisedImage image = accepted(pngLargeSolid(6000, 6000));
    assertEquals(512, image.width());
    assertEquals(512, image.height());
    assertEquals(0x808080, decode(image).getRGB(100, 100) & 0xFFFFFF);
  }

  @Test
  void aPngWhoseTextChunkInflatesToFarMoreThanTheHeapIsReadWithoutInflatingIt() throws Exception {
    // 128 MiB of text in ~130 KB, more than this test JVM's whole heap: the decoder must not
    // inflate metadata it does not need (it used to, and ran out of memory).
    for (boolean itxt : new boolean[] {false, true}) {
      byte[] bomb = pngWithTextBomb(128, itxt);
      assertTrue(bomb.length < 1 << 20, "the file is small: " + bomb.length);
      NormalisedImage image = accepted(bomb);
      assertEquals(64, image.width());
      assertEquals(accepted(png(marker(64, 48))).sha256(), image.sha256(), "the same pixels as without the chunk");
    }
  }

  @Test
  void aJpegWithFarMoreScansThanAnyEncoderWritesIsRefusedBeforeDecoding() {
    ValidationResult.Rejected r = rejected(jpegWithRepeatedScans(marker(64, 48), 500), RejectReason.TOO_MANY_SCANS);
    assertTrue(r.message().contains("510 scans"), r.message());
    assertTrue(r.message().contains("at most " + JpegScans.MAX), r.message());
  }

  @Test
  void progressiveJpegsAsEncodersWriteThemAreAccepted() {
    assertEquals(10, JpegScans.count(jpeg(marker(64, 48), true)), "libjpeg's progression for colour");
    assertEquals(1, JpegScans.count(jpeg(marker(64, 48), false)));
    accepted(jpeg(marker(64, 48), true));
    accepted(jpegWithRepeatedScans(marker(64, 48), JpegScans.MAX - 10));
  }

  @Test
  void jpegDeclaringHugeDimensionsIsRefusedFromTheHeader() {
    rejected(jpegDeclaring(65_000, 65_000), RejectReason.TOO_MANY_PIXELS);
  }

  @Test
  void pngWithAnInvalidBitDepthIsCorrupt() {
    rejected(pngDeclaring(10, 10, 7), RejectReason.CORRUPT);
  }

  @Test
  void aJpegWhoseDamagedColourProfileTheDecoderIgnoresIsAcceptedWithItsPixels() {
    // The decoder warns "Truncated ICC profile data … Ignoring ICC profile" and decodes every pixel:
    // taken for a truncated file, the product was dead-lettered with a false reason.
    byte[] plain = jpeg(marker(64, 48), false);
    NormalisedImage withDamagedProfile = accepted(withIccProfile(plain, new byte[40]));
    assertArrayEquals(accepted(plain).png(), withDamagedProfile.png());
  }

  @Test
  void aJpegWhoseScanDataIsGarbledIsRefusedNotIndexedWithGreyBlocks() {
    ValidationResult r = new ImageValidator(ValidationPolicy.defaults()).validate(jpegWithBadHuffmanCode());
    assertTrue(r instanceof ValidationResult.Rejected, "garbled pixels were accepted: " + r);
    ValidationResult.Rejected no = (ValidationResult.Rejected) r;
    assertEquals(RejectReason.CORRUPT, no.reason());
    assertTrue(no.message().contains("bad Huffman code"), no.message());
  }

  @Test
  void cmykJpegIsConvertedToRgb() throws Exception {
    NormalisedImage image = accepted(resource("cmyk.jpg"));
    assertEquals("jpeg", image.sourceFormat());
    BufferedImage img = decode(image);
    // ImageMagick's gradient runs top (red) to bottom (blue).
    int top = img.getRGB(20, 1);
    int bottom = img.getRGB(20, 28);
    assertTrue(((top >> 16) & 0xFF) > (top & 0xFF) + 60, String.format("red-ish at the top: %06X", top & 0xFFFFFF));
    assertTrue((bottom & 0xFF) > ((bottom >> 16) & 0xFF) + 60, String.format("blue-ish at the bottom: %06X", bottom & 0xFFFFFF));
  }

  @Test
  void progressiveCmykJpegDecodes() {
    NormalisedImage image = accepted(resource("cmyk-progressive.jpg"));
    assertEquals(40, image.width());
    assertEquals(30, image.height());
  }

  @Test
  void progressiveRgbJpegDecodes() throws Exception {
    BufferedImage img = decode(accepted(jpeg(marker(64, 48), true)));
    assertRgb(0xFF0000, img.getRGB(24, 30), 24);
    assertRgb(0x0000FF, img.getRGB(50, 30), 24);
  }

  @Test
  void sixteenBitRgbPngBecomesEightBitSrgb() throws Exception {
    BufferedImage img = decode(accepted(png16BitRgb(8, 8, 200, 100, 50)));
    assertEquals(0xC86432, img.getRGB(3, 3) & 0xFFFFFF);
    assertEquals(BufferedImage.TYPE_3BYTE_BGR, img.getType(), "8-bit RGB PNG");
  }

  @Test
  void grayscaleKeepsItsValuesExactly() throws Exception {
    assertEquals(0x646464, decode(accepted(pngGray(8, 8, 100, false))).getRGB(1, 1) & 0xFFFFFF);
    assertEquals(0x646464, decode(accepted(pngGray(8, 8, 100, true))).getRGB(1, 1) & 0xFFFFFF,
        "16-bit gray too, with no gamma shift");
  }

  @Test
  void palettePngBecomesRgb() throws Exception {
    BufferedImage img = decode(accepted(pngPalette(32, 32)));
    assertEquals(0xFF0000, img.getRGB(10, 20) & 0xFFFFFF);
    assertEquals(0x0000FF, img.getRGB(20, 20) & 0xFFFFFF);
  }

  @Test
  void transparencyIsCompositedOverWhite() throws Exception {
    BufferedImage img = decode(accepted(pngWithAlpha(20, 10)));
    assertEquals(0xFFFFFF, img.getRGB(2, 5) & 0xFFFFFF);
    assertEquals(0x000000, img.getRGB(15, 5) & 0xFFFFFF);
  }

  @Test
  void animatedGifIsRefused() {
    rejected(gif(marker(20, 20), marker(30, 20).getSubimage(0, 0, 20, 20)), RejectReason.ANIMATED);
  }

  @Test
  void stillGifIsAccepted() {
    assertEquals("gif", accepted(gif(marker(20, 20))).sourceFormat());
  }

  @Test
  void animatedWebpIsRefused() {
    rejected(resource("animated.webp"), RejectReason.ANIMATED);
  }

  @Test
  void animatedPngIsRefused() {
    rejected(apng(marker(20, 20)), RejectReason.ANIMATED);
  }

  @Test
  void lossyAndLosslessWebpDecode() throws Exception {
    for (String name : new String[] {"lossy.webp", "lossless.webp"}) {
      NormalisedImage image = accepted(resource(name));
      assertEquals("webp", image.sourceFormat());
      BufferedImage img = decode(image);
      assertEquals(40, img.getWidth());
      int top = img.getRGB(20, 0);
      int bottom = img.getRGB(20, 29);
      assertTrue(((top >> 16) & 0xFF) > 200 && (top & 0xFF) < 60, String.format("%s red at the top: %06X", name, top));
      assertTrue((bottom & 0xFF) > 200 && ((bottom >> 16) & 0xFF) < 60, String.format("%s blue at the bottom: %06X", name, bottom));
    }
  }

  @Test
  void aLargeLossyWebpDecodesWithinTheHeap() {
    // 49 megapixels: the WebP reader before TwelveMonkeys 3.14 set up every 16x16 block of the
    // full frame, ~700 MB, whatever the subsampling, and this heap is 96 MB. The file holds data
    // for 40x30 only, so it ends up refused as cut short.
    rejected(lossyWebpDeclaring(7000, 7000), RejectReason.TRUNCATED);
    accepted(resource("lossy.webp"));
  }

  @Test
  void aLargeLosslessWebpIsRefusedFromItsHeader() {
    // Its decoder fills a full-size raster before subsampling: 196 MB here.
    ValidationResult.Rejected r = rejected(losslessWebpDeclaring(7000, 7000), RejectReason.TOO_MANY_PIXELS);
    assertTrue(r.message().contains("lossless"), r.message());
    assertTrue(ContentSniffer.isLosslessWebp(resource("lossless.webp")));
    assertFalse(ContentSniffer.isLosslessWebp(resource("lossy.webp")));
  }

  @Test
  void aLargeLossyWebpWithLosslessAlphaIsRefusedFromItsHeader() {
    // Its alpha plane goes through the lossless decoder, which fills a full-size raster.
    ValidationResult.Rejected r = rejected(lossyWebpWithLosslessAlphaDeclaring(7000, 7000),
        RejectReason.TOO_MANY_PIXELS);
    assertTrue(r.message().contains("lossless alpha"), r.message());
    assertEquals(RejectReason.TRUNCATED,
        ((ValidationResult.Rejected) validator.validate(lossyWebpDeclaring(7000, 7000))).reason(),
        "without such alpha the same size is decoded (and found cut short)");
  }

  @Test
  void exifOrientationSixIsRotatedUpright() throws Exception {
    // Stored 40x20 landscape; orientation 6 means "rotate 90 degrees clockwise to view".
    NormalisedImage image = accepted(withExifOrientation(jpeg(marker(40, 20), false), 6));
    assertEquals(20, image.width());
    assertEquals(40, image.height());
    BufferedImage img = decode(image);
    // The green top-left marker of the stored image ends up top-right after a clockwise turn.
    assertRgb(0x00FF00, img.getRGB(18, 2), 60);
    assertRgb(0xFF0000, img.getRGB(5, 15), 60);
    assertRgb(0x0000FF, img.getRGB(10, 35), 60);
  }

  @Test
  void largeImagesAreBoundedKeepingAspect() {
    NormalisedImage image = accepted(jpeg(marker(3000, 1000), false));
    assertEquals(512, image.width());
    assertEquals(171, image.height());
    assertEquals(3000, image.sourceWidth());
    NormalisedImage thin = accepted(png(marker(4000, 3)));
    assertEquals(512, thin.width());
    assertEquals(1, thin.height(), "never collapses to zero");
  }

  @Test
  void outputSideIsConfigurable() {
    ImageValidator small = new ImageValidator(ValidationPolicy.defaults().withMaxOutputSide(64));
    ValidationResult r = small.validate(png(marker(200, 100)));
    NormalisedImage image = ((ValidationResult.Accepted) r).image();
    assertEquals(64, image.width());
    assertEquals(32, image.height());
  }

  @Test
  void svgAvifAndTiffAreUnsupported() {
    rejected(svg(), RejectReason.UNSUPPORTED_FORMAT);
    rejected(avifHeader(), RejectReason.UNSUPPORTED_FORMAT);
    assertTrue(rejected(tiff(marker(8, 8)), RejectReason.UNSUPPORTED_FORMAT).message().startsWith("TIF"));
  }

  @Test
  void bmpIsAccepted() {
    assertEquals("bmp", accepted(bmp(marker(8, 8))).sourceFormat());
  }

  @Test
  void aBmpWrappingAJpegOrPngIsRefusedBeforeTheReaderAllocatesWhatItDeclares() {
    // The JDK's reader allocates the declared size (2 GiB here, on this 96 MB heap) and hands the
    // wrapped image to a reader none of our checks reach.
    byte[] inner = png(marker(64, 48));
    for (long declared : new long[] {inner.length, 0x7FFF_FFF0L}) {
      for (int compression : new int[] {4, 5}) {
        ValidationResult.Rejected r = rejected(bmpDeclaring(compression, declared, 54, inner),
            RejectReason.UNSUPPORTED_FORMAT);
        assertTrue(r.message().contains(compression == 4 ? "JPEG" : "PNG"), r.message());
      }
    }
  }

  @Test
  void aBmpDeclaringMoreThanItHoldsIsRefusedAsCutShort() {
    byte[] endOfBitmap = {0, 1};
    assertEquals("bmp", accepted(bmpDeclaring(1, 2, 54 + 1024, endOfBitmap)).sourceFormat(),
        "an honest run-length BMP still decodes");
    rejected(bmpDeclaring(1, 0x7FFF_FFF0L, 54 + 1024, endOfBitmap), RejectReason.TRUNCATED);
    // The palette is sized from the pixel-data offset: 256 MB of it, declared by 4 bytes.
    rejected(bmpDeclaring(1, 2, 0x1000_0000L, endOfBitmap), RejectReason.TRUNCATED);
  }

  @Test
  void oversizedInputIsRefusedBeforeDecoding() {
    ImageValidator tight = new ImageValidator(new ValidationPolicy(1000, 50_000_000, 512, 1,
        ValidationPolicy.defaults().formats()));
    ValidationResult r = tight.validate(png(marker(300, 300)));
    assertEquals(RejectReason.TOO_LARGE_INPUT, ((ValidationResult.Rejected) r).reason());
  }

  @Test
  void tooSmallImagesAreRefusedWhenAMinimumIsSet() {
    ImageValidator strict = new ImageValidator(ValidationPolicy.defaults().withMinSide(16));
    ValidationResult r = strict.validate(png(marker(8, 40)));
    assertEquals(RejectReason.TOO_SMALL, ((ValidationResult.Rejected) r).reason());
  }

  @Test
  void contentAddressIsTheSha256OfTheOutputAndStable() throws Exception {
    byte[] input = jpeg(marker(300, 200), false);
    NormalisedImage first = accepted(input);
    NormalisedImage second = accepted(input);
    String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(first.png()));
    assertEquals(expected, first.sha256());
    assertEquals(first.sha256(), second.sha256());
    assertEquals("images/" + expected, first.objectKey());
  }
}
