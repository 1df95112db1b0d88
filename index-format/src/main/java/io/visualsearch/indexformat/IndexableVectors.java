package io.visualsearch.indexformat;

/**
 * The vectors no index holds: an empty one, one with a component that is not a finite number, or
 * one of zero length, which cosine similarity cannot normalise. The index-builder
 * dead-letters an embeddings record carrying one and keeps the product's previous vector; the other
 * readers of the topic (search-api's fresh delta, response-consumer's replay) skip it the same way,
 * so each holds what the index holds. A NaN taken in would rank first in every answer it met.
 */
public final class IndexableVectors {

  public static final String EMPTY = "empty-vector";
  public static final String NON_FINITE = "non-finite-vector";
  public static final String ZERO = "zero-vector";

  /** Why a vector is refused: a short reason code (the dead-letter reason) and a message. */
  public record Refusal(String reason, String message) {}

  private IndexableVectors() {}

  /** Why {@code v} cannot be indexed, or null when it can. */
  public static Refusal refusal(float[] v) {
    if (v.length == 0) {
      return new Refusal(EMPTY, "embedding has no vector");
    }
    double sumSquares = 0;
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        return new Refusal(NON_FINITE, "vector component " + i + " is " + v[i]);
      }
      sumSquares += (double) v[i] * v[i];
    }
    // In double, squares of finite floats neither overflow nor vanish: zero means all components are.
    if (sumSquares == 0) {
      return new Refusal(ZERO, "vector has norm 0 and cannot be normalised");
    }
    return null;
  }
}
