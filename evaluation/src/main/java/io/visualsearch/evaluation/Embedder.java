package io.visualsearch.evaluation;

/**
 * Turns grayscale catalog images into L2-normalised vectors, so cosine similarity is an inner
 * product. Implementations may own native resources, hence {@link AutoCloseable}.
 */
public interface Embedder extends AutoCloseable {

  /** The name reports use, e.g. {@code mixed5}. */
  String name();

  /** What the report says this model is, e.g. which version directory and signature. */
  default String description() {
    return name();
  }

  /**
   * Identifies the function this embedder computes (model bytes, signature, preprocessing):
   * features cached under one fingerprint are only reused by an embedder with the same one.
   */
  String fingerprint();

  /** Embeds every image; returns {@code images.count()} rows of {@link #dimension()} floats, row-major. */
  float[] embed(LabeledImages images);

  /** The vector width; known once the embedder has been loaded. */
  int dimension();

  @Override
  default void close() {}
}
