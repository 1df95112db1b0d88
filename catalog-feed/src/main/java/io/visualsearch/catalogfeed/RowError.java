package io.visualsearch.catalogfeed;

/**
 * One feed row that was not accepted. {@code line} is the 1-based line where the row starts
 * (for XML the line of its {@code <item>}/{@code <entry>}); {@code id} is empty when the row has
 * none or it could not be read.
 */
public record RowError(long line, String id, String reason) {

  /**
   * Shortens what a hostile row could make long: an id past the longest valid one (it was refused
   * for that, or never read as one) and a reason quoting a huge field. Each error is a dead-letter
   * record, and one above Kafka's record limit failed the whole sync, at every interval.
   */
  public RowError {
    if (id.length() > RowMapper.MAX_ID_LENGTH) {
      id = id.substring(0, RowMapper.MAX_ID_LENGTH);
    }
    reason = BoundedReason.of(reason);
  }

  @Override
  public String toString() {
    return "line " + line + (id.isEmpty() ? "" : " (id " + id + ")") + ": " + reason;
  }
}
