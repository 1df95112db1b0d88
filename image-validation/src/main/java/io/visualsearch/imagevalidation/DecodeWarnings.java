package io.visualsearch.imagevalidation;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which of a decoder's warnings mean the pixels are not the picture. A decoder warns about much it
 * recovers from with the picture whole: metadata it ignored (a damaged colour profile, a thumbnail,
 * an Adobe marker), a CMYK file without a profile decoded with a generic one, stray bytes before a
 * marker. Those images are served as decoded. Data that ends early, or entropy-coded data the
 * decoder had to skip (a bad Huffman code, a lost restart marker), leaves grey or garbled blocks:
 * searched, such a picture returns confident garbage, so it is refused. The catalog's normaliser
 * and search-api's query decoder share this rule, so a shopper's upload of a catalog picture is
 * never refused when its catalog copy was accepted, nor the other way round.
 */
public final class DecodeWarnings {

  private DecodeWarnings() {}

  /** The first warning saying the image data was cut short, or empty. */
  public static Optional<String> dataCutShort(List<String> warnings) {
    for (String w : warnings) {
      String lower = w.toLowerCase(Locale.ROOT);
      if (aboutMetadata(lower)) {
        continue; // "Truncated ICC profile data … Ignoring ICC profile": the pixels are unaffected
      }
      if (lower.contains("premature end") || lower.contains("truncat") || lower.contains("end of")) {
        return Optional.of(w);
      }
    }
    return Optional.empty();
  }

  /** The first warning saying pixels are missing or garbled (data cut short included), or empty. */
  public static Optional<String> pixelsDamaged(List<String> warnings) {
    Optional<String> cutShort = dataCutShort(warnings);
    if (cutShort.isPresent()) {
      return cutShort;
    }
    for (String w : warnings) {
      String lower = w.toLowerCase(Locale.ROOT);
      // libjpeg's words for entropy-coded data it could not decode and skipped.
      if (lower.contains("bad huffman code") || lower.contains("instead of rst")
          || lower.contains("corrupt jpeg data: bad") && !lower.contains("segment length")) {
        return Optional.of(w);
      }
    }
    return Optional.empty();
  }

  private static boolean aboutMetadata(String lower) {
    return lower.contains("ignor") || lower.contains("thumbnail");
  }
}
