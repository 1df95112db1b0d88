package io.visualsearch.catalogfeed;

/** What one pass over a feed saw. {@code rows} counts data rows, accepted or not. */
public record FeedSummary(FeedFormat format, long rows, long accepted, long rejected) {}
