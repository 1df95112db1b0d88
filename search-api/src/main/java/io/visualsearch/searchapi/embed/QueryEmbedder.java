package io.visualsearch.searchapi.embed;

import java.awt.image.BufferedImage;

/**
 * Turns a shopper's image into a query vector. The search path depends on this small interface,
 * not on the model client, so the model server can be swapped (TensorFlow Serving, ours) without
 * touching the query path. Failures are {@link io.visualsearch.searchapi.ApiException}s with a
 * status the client can act on.
 */
public interface QueryEmbedder {

  QueryVector embed(BufferedImage image);

  /** A query vector and the model that produced it. */
  record QueryVector(float[] vector, String modelName, long modelVersion) {}
}
