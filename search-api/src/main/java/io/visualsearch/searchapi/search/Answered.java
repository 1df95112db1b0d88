package io.visualsearch.searchapi.search;

/**
 * An answer, and what is left to do once the transport has sent it: a visual search is archived
 * to {@code search.responses} only then, so the shopper never waits for the producer (see
 * RATIONALE.md, "The answer goes out before it is archived").
 *
 * @param requestId the id its archived answer is published and stored under
 *     ({@code responses/<tenant>/<request-id>.json}), which the transport answers so that a client
 *     can find it; null for an answer that is not archived
 */
public record Answered(SearchAnswer answer, Runnable afterSent, String requestId) {

  /** An answer with nothing left to do (similar items are not archived). */
  public static Answered of(SearchAnswer answer) {
    return new Answered(answer, () -> { }, null);
  }
}
