package io.visualsearch.indexbuilder;

import io.opentelemetry.api.trace.SpanContext;
import java.util.List;
import java.util.Map;

/**
 * A tenant's catalog at one instant, which a build works from while ingestion goes on.
 *
 * @param productsPerModel how many products currently carry a vector of each model
 * @param lastArrivalMs per model, when a changed vector of it last reached this builder
 * @param lastProducedMs per model, the newest producer timestamp of a changed vector of it
 * @param lastOffsets per partition, the highest offset of a record that changed this tenant
 * @param watermarks per partition, the next offset after the last record applied to any tenant:
 *     every record before it is reflected here, so a manifest can claim to cover it
 * @param origins spans of recent changes, for the build span's links
 */
record TenantSnapshot(String tenant, List<ProductVector> products, Map<ModelKey, Integer> productsPerModel,
    Map<ModelKey, Integer> dimensions, Map<ModelKey, Long> lastArrivalMs, Map<ModelKey, Long> lastProducedMs,
    Map<Integer, Long> lastOffsets,
    Map<Integer, Long> watermarks, List<SpanContext> origins) {

  List<ProductVector> vectorsOf(ModelKey model) {
    return products.stream().filter(p -> p.model().equals(model)).toList();
  }

  /** Whether an index that covered {@code coveredOffsets} already reflects every change of this tenant. */
  boolean coveredBy(Map<Integer, Long> coveredOffsets) {
    if (coveredOffsets == null) {
      return false;
    }
    for (Map.Entry<Integer, Long> e : lastOffsets.entrySet()) {
      Long next = coveredOffsets.get(e.getKey());
      if (next == null || next <= e.getValue()) {
        return false;
      }
    }
    return true;
  }
}
