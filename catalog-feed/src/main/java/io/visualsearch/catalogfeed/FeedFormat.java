package io.visualsearch.catalogfeed;

/** Feed syntaxes understood by {@link FeedParser}. RSS and Atom share one XML reader. */
public enum FeedFormat {
  /** Google Merchant Center tab-separated text, header row of attribute names. */
  TSV,
  /** Comma- (or semicolon-) separated values, RFC 4180 quoting, header row of attribute names. */
  CSV,
  /** Merchant RSS 2.0 with the g: namespace. */
  RSS,
  /** Merchant Atom 1.0 with the g: namespace. */
  ATOM,
  /** One JSON object per line. */
  JSONL;

  boolean isXml() {
    return this == RSS || this == ATOM;
  }
}
