package io.visualsearch.catalogfeed;

/**
 * Caps what is told the retailer about a row or a whole feed. Reasons quote what they refuse (a
 * field, a header row), which a hostile or broken feed can make megabytes long; each reason
 * becomes a dead-letter record, and one above Kafka's record limit failed the whole sync, at every
 * interval. The start says what was wrong; the total length says how much was left out.
 */
final class BoundedReason {

  static final int MAX_CHARS = 1000;

  private BoundedReason() {}

  static String of(String reason) {
    if (reason == null || reason.length() <= MAX_CHARS) {
      return reason;
    }
    // Not between the two halves of a surrogate pair: alone, one becomes '?' in UTF-8.
    int end = Character.isHighSurrogate(reason.charAt(MAX_CHARS - 1)) ? MAX_CHARS - 1 : MAX_CHARS;
    return reason.substring(0, end) + "... (" + reason.length() + " characters in all)";
  }
}
