package io.visualsearch.indexbuilder;

import io.visualsearch.indexformat.IndexLayout;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * Names index versions {@code yyyyMMddTHHmmssZ-<millis><random>}: string order is time order
 * (down to the millisecond), which both readers and the garbage collector rely on, and the random
 * tail keeps two builders that start in the same millisecond apart.
 */
final class IndexVersions {

  private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT)
      .withZone(ZoneOffset.UTC);
  private static final String ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

  private final SecureRandom random = new SecureRandom();

  String next(Instant now) {
    StringBuilder sb = new StringBuilder(SECONDS.format(now)).append('-')
        .append(String.format(Locale.ROOT, "%03d", now.toEpochMilli() % 1000));
    for (int i = 0; i < 6; i++) {
      sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return IndexLayout.validVersion(sb.toString());
  }

  /** When a version was created (second precision), or null for a name this builder did not write. */
  static Instant createdAt(String version) {
    int dash = version.indexOf('-');
    if (dash < 0) {
      return null;
    }
    try {
      return SECONDS.parse(version.substring(0, dash), Instant::from);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
