package io.visualsearch.searchapi.embed;

import io.visualsearch.modelclient.Embeddings;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.modelclient.ModelRejectedException;
import io.visualsearch.modelclient.ModelUnavailableException;
import io.visualsearch.modelclient.ModelVersionNotServedException;
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
  public QueryVector embed(BufferedImage image, long modelVersion) {
    try {
      Embeddings e = modelVersion > 0 ? client.embed(List.of(image), modelVersion) : client.embed(List.of(image));
      if (e.vectors().length != 1) {
        throw new ApiException(502, "model_error", "the model server answered " + e.vectors().length
            + " vectors for one image", null, null);
      }
      return new QueryVector(e.vectors()[0], e.modelName(), e.modelVersion(), client.signature());
    } catch (ModelVersionNotServedException e) {
      // The index's model version is no longer served, and an index of the new version is on its
      // way: a longer wait than an outage, and no sign that the model server is unwell.
      throw ApiException.unavailable("model_index_mismatch", "the model version " + e.version()
          + " this catalog's index was built with is no longer served; retry after the rebuild", 30, e);
    } catch (ModelUnavailableException e) {
      throw ApiException.unavailable("model_unavailable", "the embedding model is unavailable, retry shortly", 2, e);
    } catch (ModelRejectedException e) {
      throw new ApiException(502, "model_error", "the embedding model refused the image", null, e);
    }
  }
}
