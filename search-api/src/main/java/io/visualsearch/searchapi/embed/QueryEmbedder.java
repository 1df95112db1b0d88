package io.visualsearch.searchapi.embed;

import java.awt.image.BufferedImage;

/**
 * Turns a shopper's image into a query vector. The search path depends on this small interface,
 * not on the model client, so the model server can be swapped (TensorFlow Serving, ours) without
 * touching the query path. Failures are {@link io.visualsearch.searchapi.ApiException}s with a
 * status the client can act on.
 */
public interface QueryEmbedder {

  /**
   * Embeds with {@code modelVersion} — the version the searched index was built with, so the query
   * and the index always come from one model, also while a new version rolls out — or with the
   * latest served version when it is 0 (an index that does not record its version); and as the
   * index's {@code variant} (with its {@code signature}) says, so that a change of layer, output or
   * image size rolls out the same way; with the embedder's own configuration when the index does
   * not say (null or empty).
   */
  QueryVector embed(BufferedImage image, long modelVersion, String signature, String variant);

  /**
   * Same, of the model named {@code modelName} (the searched index's) when it names one, rather
   * than the embedder's own: a deployment moving to another model re-embeds each catalog under the
   * new name, and a tenant's index keeps its old model until the re-embedding covers it, so queries
   * must follow each index's model (served side by side, as TensorFlow Serving's model config
   * allows) rather than MODEL_NAME. An embedder of one model only ignores it.
   */
  default QueryVector embed(BufferedImage image, String modelName, long modelVersion, String signature,
      String variant) {
    return embed(image, modelVersion, signature, variant);
  }

  /**
   * A query vector and the model (name, version and signature) that produced it, and its variant
   * (signature, output and image shaping; null when the embedder cannot say).
   */
  record QueryVector(float[] vector, String modelName, long modelVersion, String signature, String variant) {

    /** A vector whose variant is not known. */
    public QueryVector(float[] vector, String modelName, long modelVersion, String signature) {
      this(vector, modelName, modelVersion, signature, null);
    }
  }
}
