package io.visualsearch.imagevalidation;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Looks at leading bytes for things that are not raster images we decode, so the retailer gets
 * a specific reason ("your image URL returns an HTML page") rather than a generic one, and for
 * container facts the ImageIO readers do not report (APNG animation, GIF trailer).
 */
final class ContentSniffer {

  private ContentSniffer() {}

  /** A rejection for recognisable non-images or unsupported formats, else null. */
  static ValidationResult.Rejected recognisedNonImage(byte[] data) {
    String head = new String(data, 0, Math.min(data.length, 512), StandardCharsets.ISO_8859_1);
    String text = head.stripLeading().toLowerCase(Locale.ROOT);
    if (text.startsWith("\u00ef\u00bb\u00bf")) {
      text = text.substring(3).stripLeading();
    }
    if (text.startsWith("<!doctype html") || text.startsWith("<html") || text.startsWith("<head")
        || text.startsWith("<body") || (text.startsWith("<!--") && text.contains("<html"))) {
      return new ValidationResult.Rejected(RejectReason.NOT_AN_IMAGE,
          "the image URL returned an HTML page, not an image (error page, login or consent wall?)");
    }
    if (text.startsWith("<svg") || (text.startsWith("<?xml") && text.contains("<svg"))) {
      return new ValidationResult.Rejected(RejectReason.UNSUPPORTED_FORMAT,
          "SVG vector images are not supported: provide a JPEG, PNG or WebP");
    }
    if (text.startsWith("{") || text.startsWith("[")) {
      return new ValidationResult.Rejected(RejectReason.NOT_AN_IMAGE,
          "the image URL returned JSON, not an image");
    }
    if (head.startsWith("%PDF")) {
      return new ValidationResult.Rejected(RejectReason.UNSUPPORTED_FORMAT,
          "PDF documents are not images: provide a JPEG, PNG or WebP");
    }
    if (data.length >= 12 && head.startsWith("ftyp", 4)) {
      String brand = head.substring(8, 12);
      String name = brand.startsWith("avi") ? "AVIF" : brand.startsWith("he") || brand.startsWith("mif") ? "HEIC/HEIF" : null;
      if (name != null) {
        return new ValidationResult.Rejected(RejectReason.UNSUPPORTED_FORMAT,
            name + " images are not supported: provide a JPEG, PNG or WebP");
      }
    }
    return null;
  }

  /**
   * Whether the container reaches its end: JPEG EOI after the last scan, PNG IEND, GIF trailer,
   * WebP RIFF length. Decoders report a cut-off file in many ways (or fill the rest with gray and
   * only warn), so the structure decides; unknown formats count as complete.
   */
  static boolean isComplete(String format, byte[] data) {
    return switch (format) {
      case "jpeg" -> jpegHasEndMarker(data);
      case "png" -> pngReachesIend(data);
      case "gif" -> gifHasTrailer(data);
      case "webp" -> webpRiffComplete(data);
      default -> true;
    };
  }

  private static boolean pngReachesIend(byte[] data) {
    long at = 8;
    while (at + 8 <= data.length) {
      int i = (int) at;
      long length = ((data[i] & 0xFFL) << 24) | ((data[i + 1] & 0xFF) << 16) | ((data[i + 2] & 0xFF) << 8)
          | (data[i + 3] & 0xFF);
      String type = new String(data, i + 4, 4, StandardCharsets.ISO_8859_1);
      at += 12 + length;
      if (type.equals("IEND")) {
        return at <= data.length;
      }
    }
    return false;
  }

  private static boolean webpRiffComplete(byte[] data) {
    if (data.length < 12) {
      return false;
    }
    long riffSize = le32(data, 4);
    return riffSize + 8 <= data.length;
  }

  /**
   * Whether a WebP holds lossless data: its image (a VP8L chunk rather than lossy VP8), or the
   * alpha plane of a lossy image (an ALPH chunk whose compression method is 1, which is how cwebp
   * writes transparent cut-outs). Both go through the lossless decoder, which fills a full-size
   * raster whatever the subsampling. The RIFF chunks are walked, so an extended file (VP8X, then
   * ICC, ALPH, ...) is read right too.
   */
  static boolean isLosslessWebp(byte[] data) {
    int at = 12; // after "RIFF", the length and "WEBP"
    while (at + 8 <= data.length) {
      String fourcc = new String(data, at, 4, StandardCharsets.ISO_8859_1);
      if (fourcc.equals("VP8L")) {
        return true;
      }
      if (fourcc.equals("ALPH") && at + 8 < data.length && (data[at + 8] & 0x03) == 1) {
        return true;
      }
      if (fourcc.equals("VP8 ")) {
        return false;
      }
      long size = le32(data, at + 4);
      long next = at + 8 + size + (size & 1);
      if (next > data.length) {
        return false;
      }
      at = (int) next;
    }
    return false;
  }

  /**
   * A refusal for a BMP wrapping a JPEG or PNG (compression 4 or 5), else null. The JDK's reader
   * allocates the wrapped image's size as the header declares it (54 bytes could ask for 2 GiB)
   * and hands it to a second reader that none of our checks reach.
   */
  static ValidationResult.Rejected bmpRefusal(byte[] data) {
    // Windows headers (40 bytes or more) carry the compression at offset 30; OS/2 1.x has none.
    if (data.length < 34 || data[0] != 'B' || data[1] != 'M' || le32(data, 14) < 40) {
      return null;
    }
    long compression = le32(data, 30);
    if (compression != 4 && compression != 5) {
      return null;
    }
    String inner = compression == 4 ? "JPEG" : "PNG";
    return new ValidationResult.Rejected(RejectReason.UNSUPPORTED_FORMAT,
        "BMP files wrapping a " + inner + " are not supported: provide the " + inner + " itself");
  }

  /** The unsigned little-endian 32-bit number at {@code at} (RIFF chunk sizes, BMP header fields). */
  private static long le32(byte[] data, int at) {
    return (data[at] & 0xFFL) | ((data[at + 1] & 0xFFL) << 8) | ((data[at + 2] & 0xFFL) << 16)
        | ((data[at + 3] & 0xFFL) << 24);
  }

  /** An APNG declares an acTL chunk before its first IDAT; plain ImageIO reads only frame one. */
  static boolean isAnimatedPng(byte[] data) {
    int at = 8; // after the signature
    while (at + 8 <= data.length) {
      long length = ((data[at] & 0xFFL) << 24) | ((data[at + 1] & 0xFF) << 16) | ((data[at + 2] & 0xFF) << 8)
          | (data[at + 3] & 0xFF);
      String type = new String(data, at + 4, 4, StandardCharsets.ISO_8859_1);
      if (type.equals("acTL")) {
        return true;
      }
      if (type.equals("IDAT") || type.equals("IEND")) {
        return false;
      }
      at += 12 + length;
      if (length < 0 || at < 0) {
        return false;
      }
    }
    return false;
  }

  /** A complete GIF ends with the 0x3B trailer; the JDK decoder silently accepts less. */
  static boolean gifHasTrailer(byte[] data) {
    int end = data.length - 1;
    while (end > 0 && data[end] == 0) {
      end--; // some encoders pad after the trailer
    }
    return end > 0 && data[end] == 0x3B;
  }

  /** A complete JPEG's marker structure reaches its EOI marker (FF D9); bytes after it are ignored. */
  static boolean jpegHasEndMarker(byte[] data) {
    return JpegStructure.of(data).complete();
  }
}
