package io.visualsearch.searchapi.search;

/**
 * An answer, and what is left to do once the transport has sent it: a visual search is archived
 * to {@code search.responses} only then, so the shopper never waits for the producer (see
 * RATIONALE.md, "The answer goes out before it is archived").
 */
public record Answered(SearchAnswer answer, Runnable afterSent) {

  /** An answer with nothing left to do (similar items are not archived). */
  public static Answered of(SearchAnswer answer) {
    return new Answered(answer, () -> { });
  }
}
