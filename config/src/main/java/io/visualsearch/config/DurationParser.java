package io.visualsearch.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the short duration forms operators type into env vars. */
final class DurationParser {

  private static final Pattern SHORT = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

  private DurationParser() {}

  static Duration parse(String raw) {
    String s = raw.trim().toLowerCase(Locale.ROOT);
    if (s.startsWith("p") || s.startsWith("-p")) {
      Duration d = Duration.parse(s.toUpperCase(Locale.ROOT));
      if (d.isNegative()) {
        // No setting waits a negative time; a timeout or back-off below zero is a typo.
        throw new IllegalArgumentException("a duration cannot be negative");
      }
      return d;
    }
    Matcher m = SHORT.matcher(s);
    if (!m.matches()) {
      throw new IllegalArgumentException("expected e.g. 250ms, 30s, 5m, 2h, 1d");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  /** The shortest form {@link #parse} reads back to the same duration: 5m, 250ms; ISO-8601 below a millisecond. */
  static String format(Duration d) {
    if (d.isZero()) {
      return "0s";
    }
    if (d.isNegative() || d.getNano() % 1_000_000 != 0) {
      return d.toString();
    }
    long ms = d.toMillis();
    long[] sizes = {86_400_000L, 3_600_000L, 60_000L, 1_000L, 1L};
    String[] units = {"d", "h", "m", "s", "ms"};
    for (int i = 0; i < sizes.length; i++) {
      if (ms % sizes[i] == 0) {
        return ms / sizes[i] + units[i];
      }
    }
    throw new AssertionError("every whole millisecond count divides by 1");
  }
}
