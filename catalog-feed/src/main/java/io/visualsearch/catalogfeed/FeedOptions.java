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
 * @param maxProducts a feed with more valid products than this is refused as TOO_LARGE: a sync holds
 *     every product's id (and the previous snapshot's) in memory, so a feed past what the heap holds
 *     would end the process at the same point on every restart, and no other tenant would sync
 */
public record FeedOptions(FeedFormat formatOverride, int maxRowBytes, long maxFeedBytes, int maxErrorsKept,
    long maxProducts) {

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
    if (maxProducts < 1) {
      throw new IllegalArgumentException("maxProducts must be positive");
    }
  }

  /** Without a product limit. */
  public FeedOptions(FeedFormat formatOverride, int maxRowBytes, long maxFeedBytes, int maxErrorsKept) {
    this(formatOverride, maxRowBytes, maxFeedBytes, maxErrorsKept, Long.MAX_VALUE);
  }

  public static FeedOptions defaults() {
    return new FeedOptions(null, DEFAULT_MAX_ROW_BYTES, DEFAULT_MAX_FEED_BYTES, 1000);
  }

  public FeedOptions withFormat(FeedFormat format) {
    return new FeedOptions(format, maxRowBytes, maxFeedBytes, maxErrorsKept, maxProducts);
  }

  public FeedOptions withMaxRowBytes(int bytes) {
    return new FeedOptions(formatOverride, bytes, maxFeedBytes, maxErrorsKept, maxProducts);
  }

  public FeedOptions withMaxFeedBytes(long bytes) {
    return new FeedOptions(formatOverride, maxRowBytes, bytes, maxErrorsKept, maxProducts);
  }

  public FeedOptions withMaxProducts(long products) {
    return new FeedOptions(formatOverride, maxRowBytes, maxFeedBytes, maxErrorsKept, products);
  }
}
