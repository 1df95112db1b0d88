package io.visualsearch.catalogfeed;

/** What a format reader hands its rows to; validation and de-duplication happen behind it. */
interface RowHandler {

  void row(RawRow row);

  /** A row the format reader itself could not extract (oversized, malformed syntax). */
  void unreadable(long line, String id, String reason);
}
