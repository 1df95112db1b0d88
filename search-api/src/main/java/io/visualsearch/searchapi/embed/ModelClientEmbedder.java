package io.visualsearch.searchapi.embed;

import io.visualsearch.modelclient.CallerGoneException;
import io.visualsearch.modelclient.Embeddings;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.modelclient.ModelRejectedException;
import io.visualsearch.modelclient.ModelUnavailableException;
import io.visualsearch.modelclient.ModelVersionNotServedException;
import io.visualsearch.modelclient.VectorVariant;
import io.visualsearch.searchapi.ApiException;
import java.awt.image.BufferedImage;
import java.util.List;

/** Embeds queries through the TF-Serving-compatible model server (deadlines and retries are the client's). */
public final class ModelClientEmbedder implements QueryEmbedder {

  private final ModelClient client;

  public ModelClientEmbedder(ModelClient client) {
    this.client = client;
  }

  @Override
  public QueryVector embed(BufferedImage image, long modelVersion, String signature, String variant) {
    return embed(image, null, modelVersion, signature, variant);
  }

  @Override
  public QueryVector embed(BufferedImage image, String modelName, long modelVersion, String signature,
      String variant) {
    // A name this client cannot read (another writer's format) leaves its own configuration, which
    // the model check then compares: a clear 503 rather than a guess.
    VectorVariant as = VectorVariant.parse(variant, signature).orElse(client.variant());
    try {
      // A version is the index's: so is its model's name, when it has one.
      Embeddings e = modelVersion <= 0 ? client.embed(List.of(image))
          : modelName == null || modelName.isEmpty() ? client.embed(List.of(image), modelVersion, as)
          : client.embed(List.of(image), modelName, modelVersion, as);
      if (e.vectors().length != 1) {
        throw new ApiException(502, "model_error", "the model server answered " + e.vectors().length
            + " vectors for one image", null, null);
      }
      VectorVariant used = modelVersion > 0 ? as : client.variant();
      return new QueryVector(e.vectors()[0], e.modelName(), e.modelVersion(), used.signature(), used.name());
    } catch (ModelUnavailableException | ModelRejectedException e) {
      throw refusal(e);
    }
  }

  /** The answer for a model call that failed: whose fault it was decides what the health page counts. */
  static ApiException refusal(Exception e) {
    if (e instanceof ModelVersionNotServedException notServed) {
      // The index's model version is no longer served, and an index of the new version is on its
      // way: a longer wait than an outage, and no sign that the model server is unwell, so no
      // cause: with one, every query of the rollout counted as search-api's error and logged a trace.
      return ApiException.unavailable("model_index_mismatch", "the model version " + notServed.version()
          + " this catalog's index was built with is no longer served; retry after the rebuild", 30, null);
    }
    if (e instanceof CallerGoneException) {
      // The request's own deadline passed (or it was cancelled) while it was embedded: the caller's
      // doing, answered as a gone caller is, not as the model server's failure or this service's.
      return new ApiException(499, "caller_gone", "the call was cancelled or its deadline passed while the photo"
          + " was embedded", null, null);
    }
    if (e instanceof ModelRejectedException) {
      return new ApiException(502, "model_error", "the embedding model refused the image", null, e);
    }
    return ApiException.unavailable("model_unavailable", "the embedding model is unavailable, retry shortly", 2, e);
  }
}
