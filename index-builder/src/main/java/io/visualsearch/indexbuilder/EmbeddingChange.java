package io.visualsearch.indexbuilder;

import io.opentelemetry.api.trace.SpanContext;

/** One decoded, validated record of the embeddings topic. */
sealed interface EmbeddingChange {

  String tenant();

  String sku();

  /**
   * The product has a (new) vector.
   *
   * @param origin the span that delivered it, linked from the build span that first indexes it
   */
  record Upsert(String tenant, ProductVector product, SpanContext origin) implements EmbeddingChange {
    @Override
    public String sku() {
      return product.sku();
    }
  }

  /** The product left the catalog (tombstone). */
  record Delete(String tenant, String sku) implements EmbeddingChange {}
}
