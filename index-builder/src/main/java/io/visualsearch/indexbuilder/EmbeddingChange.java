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

  /**
   * The product left the catalog (tombstone).
   *
   * @param origin the span that delivered it: a removal reaches the build's trace as an addition
   *     does (left out, a build of deletions alone linked nothing, and the removed product's trace
   *     never showed the version it left the index in)
   */
  record Delete(String tenant, String sku, SpanContext origin) implements EmbeddingChange {

    /** A tombstone no span delivered (the start-up replay's, a test's). */
    Delete(String tenant, String sku) {
      this(tenant, sku, SpanContext.getInvalid());
    }
  }
}
