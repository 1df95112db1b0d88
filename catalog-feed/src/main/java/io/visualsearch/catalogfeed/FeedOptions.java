package io.visualsearch.catalogfeed;

/**
 * Parsing limits and the format override.
 *
 * @param formatOverride null to sniff the content, else the format to use
 * @param maxRowBytes a row (or XML item) larger than this, in UTF-8 bytes, is a per-row error
 * @param maxFeedBytes the decompressed feed may not exceed this (gzip bombs, runaway exports)
 * @param maxErrorsKept how many row errors a diff keeps for the report (all are counted, and the
 *     second pass, {@link CatalogDiff#emitUpserts(java.util.function.Consumer, java.util.function.Consumer)},
 *     hands all over)
 */
public record FeedOptions(FeedFormat formatOverride, int maxRowBytes, long maxFeedBytes, int maxErrorsKept) {

  public static final int DEFAULT_MAX_ROW_BYTES = 1 << 20;
  public static final long DEFAULT_MAX_FEED_BYTES = 4L << 30;

  public FeedOptions {
    if (maxRowBytes < 1024) {
      throw new IllegalArgumentException("maxRowBytes must be at least 1024");
    }
    if (maxFeedBytes < 1) {
      throw new IllegalArgumentException("maxFeedBytes must be positive");
    }
    if (maxErrorsKept < 0) {
      throw new IllegalArgumentException("maxErrorsKept must not be negative");
    }
  }

  public static FeedOptions defaults() {
    return new FeedOptions(null, DEFAULT_MAX_ROW_BYTES, DEFAULT_MAX_FEED_BYTES, 1000);
  }

  public FeedOptions withFormat(FeedFormat format) {
    return new FeedOptions(format, maxRowBytes, maxFeedBytes, maxErrorsKept);
  }

  public FeedOptions withMaxRowBytes(int bytes) {
    return new FeedOptions(formatOverride, bytes, maxFeedBytes, maxErrorsKept);
  }

  public FeedOptions withMaxFeedBytes(long bytes) {
    return new FeedOptions(formatOverride, maxRowBytes, bytes, maxErrorsKept);
  }
}
