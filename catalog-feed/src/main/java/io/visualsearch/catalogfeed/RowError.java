package io.visualsearch.catalogfeed;

/**
 * One feed row that was not accepted. {@code line} is the 1-based line where the row starts
 * (for XML the line of its {@code <item>}/{@code <entry>}); {@code id} is empty when the row has
 * none or it could not be read.
 */
public record RowError(long line, String id, String reason) {

  @Override
  public String toString() {
    return "line " + line + (id.isEmpty() ? "" : " (id " + id + ")") + ": " + reason;
  }
}
