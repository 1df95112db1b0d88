package io.visualsearch.imagevalidation;

import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Validates untrusted image bytes with real decoders (ImageIO + TwelveMonkeys JPEG/WebP) — never
 * by extension or Content-Type — and normalises accepted images to an 8-bit sRGB PNG whose
 * longest side is at most the policy's output side.
 *
 * <p>Order matters for hostile input: size, content sniffing, then the header (dimensions, frame
 * count) and only then decoding, with source subsampling so an image far larger than the output
 * is decoded at a fraction of its size. A decompression bomb is refused from its header and
 * never allocates its raster. Thread-safe: each call uses its own readers.
 */
public final class ImageValidator {

  private final ValidationPolicy policy;
  private final DecodeBudget budget;

  /**
   * A validator for one service: its threads share a decode budget of the policy's pixel limit,
   * so at most one largest-allowed image (or several smaller ones) decodes at a time.
   */
  public ImageValidator(ValidationPolicy policy) {
    this(policy, new DecodeBudget(policy.maxPixels()));
  }

  public ImageValidator(ValidationPolicy policy, DecodeBudget budget) {
    this.policy = policy;
    this.budget = budget;
  }

  public ValidationResult validate(byte[] data) {
    if (data == null || data.length == 0) {
      return reject(RejectReason.EMPTY, "the image is empty (0 bytes)");
    }
    if (data.length > policy.maxInputBytes()) {
      return reject(RejectReason.TOO_LARGE_INPUT,
          "the image is " + data.length + " bytes, above the limit of " + policy.maxInputBytes());
    }
    ValidationResult.Rejected recognised = ContentSniffer.recognisedNonImage(data);
    if (recognised != null) {
      return recognised;
    }
    try (ImageInputStream in = new ByteArrayImageInputStream(data)) {
      ImageReader reader = pickReader(in);
      if (reader == null) {
        return unsupportedOrNotImage(in);
      }
      try {
        return decode(reader, in, data);
      } finally {
        reader.dispose();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("in-memory image stream failed", e);
    }
  }

  private ValidationResult decode(ImageReader reader, ImageInputStream in, byte[] data) {
    String format = formatName(reader);
    List<String> warnings = new ArrayList<>();
    reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
    if (!ContentSniffer.isComplete(format, data)) {
      return reject(RejectReason.TRUNCATED, "the " + format + " file is cut short (its end marker is missing)");
    }
    if (format.equals("bmp")) {
      ValidationResult.Rejected refused = ContentSniffer.bmpRefusal(data);
      if (refused != null) {
        return refused;
      }
    }
    if (format.equals("jpeg")) {
      Optional<String> tooManyScans = JpegScans.refusal(data);
      if (tooManyScans.isPresent()) {
        return reject(RejectReason.TOO_MANY_SCANS, tooManyScans.get());
      }
    }
    // A PNG's text chunks may be deflate-compressed, and the JDK reader inflates every one in
    // full when it reads metadata: 130 KB of file held 128 MiB of text, and the reader's
    // OutOfMemoryError could take down the whole service (ImageValidatorTest). Its pixels do not
    // depend on metadata (tRNS transparency is read either way), so PNG metadata is skipped.
    reader.setInput(in, false, format.equals("png"));
    int width;
    int height;
    try {
      width = reader.getWidth(0);
      height = reader.getHeight(0);
    } catch (IOException | RuntimeException e) {
      return decodeFailure(format, e);
    }
    if (width <= 0 || height <= 0) {
      return reject(RejectReason.CORRUPT, format + " header declares " + width + "x" + height + " pixels");
    }
    Optional<String> tooLarge = DeclaredSize.refusal(format, width, height, policy.maxPixels(), data);
    if (tooLarge.isPresent()) {
      return reject(RejectReason.TOO_MANY_PIXELS, tooLarge.get());
    }
    if (Math.min(width, height) < policy.minSide()) {
      return reject(RejectReason.TOO_SMALL,
          "the image is " + width + "x" + height + ", smaller than " + policy.minSide() + " px on a side");
    }
    try {
      if (isAnimated(reader, format, data)) {
        return reject(RejectReason.ANIMATED,
            "animated images are not accepted: provide a still " + format.toUpperCase(Locale.ROOT));
      }
      ImageReadParam param = reader.getDefaultReadParam();
      int step = Downscaler.decodeStep(width, height, policy.maxOutputSide());
      if (step > 1) {
        param.setSourceSubsampling(step, step, 0, 0);
      }
      BufferedImage decoded;
      try (DecodeBudget.Grant ignored = budget.acquire((long) width * height)) {
        decoded = reader.read(0, param);
      }
      if (DecodeWarnings.dataCutShort(warnings).isPresent()) {
        return reject(RejectReason.TRUNCATED, "the " + format + " data ends early: the file is cut short");
      }
      Optional<String> damaged = DecodeWarnings.pixelsDamaged(warnings);
      if (damaged.isPresent()) {
        return reject(RejectReason.CORRUPT, "the " + format + " data is damaged: " + damaged.get());
      }
      BufferedImage rgb = SrgbConverter.toSrgb(decoded);
      decoded = null; // let a large decoded raster go before the next copies
      rgb = UprightPixels.of(data, format.equals("jpeg"), width, height).orient(rgb);
      BufferedImage fitted = Downscaler.fit(rgb, policy.maxOutputSide());
      byte[] png = encodePng(fitted);
      return new ValidationResult.Accepted(new NormalisedImage(
          png, sha256Hex(png), fitted.getWidth(), fitted.getHeight(), format, width, height));
    } catch (IOException | RuntimeException e) {
      return decodeFailure(format, e);
    }
  }

  /** The first registered reader for an accepted format; TwelveMonkeys' JPEG reader ranks first. */
  private ImageReader pickReader(ImageInputStream in) {
    Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
    ImageReader chosen = null;
    while (readers.hasNext()) {
      ImageReader candidate = readers.next();
      if (chosen == null && policy.formats().contains(formatName(candidate))) {
        chosen = candidate;
      } else {
        candidate.dispose();
      }
    }
    return chosen;
  }

  private ValidationResult unsupportedOrNotImage(ImageInputStream in) {
    Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
    while (readers.hasNext()) {
      ImageReader reader = readers.next();
      String name = formatName(reader);
      reader.dispose();
      // WBMP has no signature, its reader claims almost any bytes: that is no evidence of an image.
      if (!name.equals("wbmp")) {
        return reject(RejectReason.UNSUPPORTED_FORMAT,
            name.toUpperCase(Locale.ROOT) + " images are not supported: provide a JPEG, PNG or WebP");
      }
    }
    return reject(RejectReason.NOT_AN_IMAGE, "the data is not an image in any format we can read");
  }

  private static String formatName(ImageReader reader) {
    try {
      return reader.getFormatName().toLowerCase(Locale.ROOT);
    } catch (IOException e) {
      return "unknown"; // only readers with a lazily computed name throw; none of ImageIO's do
    }
  }

  /** Animated sources are refused: see RATIONALE.md (first frames are often blank or intros). */
  private static boolean isAnimated(ImageReader reader, String format, byte[] data) throws IOException {
    return switch (format) {
      case "gif", "webp" -> reader.getNumImages(true) > 1;
      case "png" -> ContentSniffer.isAnimatedPng(data);
      default -> false;
    };
  }

  private static ValidationResult decodeFailure(String format, Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
      if (t instanceof EOFException || m.contains("premature end") || m.contains("end of stream")
          || m.contains("unexpected end") || m.contains("truncat") || m.contains("eof")) {
        return reject(RejectReason.TRUNCATED, "the " + format + " data ends early: the file is cut short");
      }
    }
    String detail = e instanceof IIOException || e instanceof IOException
        ? String.valueOf(e.getMessage())
        : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    return reject(RejectReason.CORRUPT, "the " + format + " data is corrupt (" + detail + ")");
  }

  private static ValidationResult.Rejected reject(RejectReason reason, String message) {
    return new ValidationResult.Rejected(reason, message);
  }

  private static byte[] encodePng(BufferedImage image) throws IOException {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(image.getWidth() * image.getHeight() + 1024);
    // A memory-cached stream: ImageIO's default may spill to a temp file.
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      writer.write(image);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  private static String sha256Hex(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JRE", e);
    }
  }
}
