package io.visualsearch.catalogfeed;

/**
 * The whole feed is refused: nothing from it may be applied. The message is meant for the
 * retailer (what is wrong and what to do about it), and is cut to 1,000 characters as a row's
 * reason is: it may quote the feed, and it goes into a dead-letter record.
 */
public final class FeedRefusedException extends Exception {

  /** Why a feed is refused. */
  public enum Reason {
    /** Content sniffing found no supported syntax. */
    UNKNOWN_FORMAT,
    /** Bytes are not valid UTF-8 (or the declared XML encoding). */
    ENCODING,
    /** The header row lacks required columns. */
    MISSING_COLUMNS,
    /** Syntax broken beyond per-row recovery (e.g. malformed XML, DTD entities). */
    MALFORMED,
    /** The decompressed feed exceeds the configured byte limit. */
    TOO_LARGE,
    /** Applying the feed would delete too large a share of the catalog. */
    DELETION_GUARD,
    /** The source yielded different content on the second pass. */
    SOURCE_CHANGED,
    /**
     * The feed could not be had for a reason on its side that trying again does not change: its
     * host answered a 4xx, it resolves to a refused address, its object or file is missing or denied.
     */
    UNAVAILABLE
  }

  private final Reason reason;

  public FeedRefusedException(Reason reason, String message) {
    super(BoundedReason.of(message));
    this.reason = reason;
  }

  public FeedRefusedException(Reason reason, String message, Throwable cause) {
    super(BoundedReason.of(message), cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
