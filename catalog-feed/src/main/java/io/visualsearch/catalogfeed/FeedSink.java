package io.visualsearch.catalogfeed;

/** Receives a feed's rows as they stream past; called on the parsing thread, in feed order. */
public interface FeedSink {

  /** A row that passed validation; {@code line} is where it starts in the feed. */
  void product(Product product, long line);

  /** A row that was rejected; parsing continues with the next row. */
  void rowError(RowError error);
}
