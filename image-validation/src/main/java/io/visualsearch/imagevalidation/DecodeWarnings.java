package io.visualsearch.imagevalidation;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which of a decoder's warnings mean the pixels are incomplete. A decoder warns about much it
 * recovers from with the picture whole: metadata it ignored (a damaged colour profile, a thumbnail,
 * an Adobe marker), a CMYK file without a profile decoded with a generic one, stray bytes before a
 * marker. Those images are served as decoded; only a warning that the data ended early refuses one.
 * The catalog's normaliser and search-api's query decoder share this rule, so a shopper's upload of
 * a catalog picture is never refused when its catalog copy was accepted.
 */
public final class DecodeWarnings {

  private DecodeWarnings() {}

  /** The first warning saying the image data was cut short, or empty when the pixels are whole. */
  public static Optional<String> dataCutShort(List<String> warnings) {
    for (String w : warnings) {
      String lower = w.toLowerCase(Locale.ROOT);
      if (lower.contains("ignor") || lower.contains("thumbnail")) {
        continue; // "Truncated ICC profile data … Ignoring ICC profile": the pixels are unaffected
      }
      if (lower.contains("premature end") || lower.contains("truncat") || lower.contains("end of")) {
        return Optional.of(w);
      }
    }
    return Optional.empty();
  }
}
