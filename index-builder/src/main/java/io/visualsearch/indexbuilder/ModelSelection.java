package io.visualsearch.indexbuilder;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;

/**
 * Decides which model's vectors a tenant's next index is built from. An index holds one model
 * version only. After an upgrade the newest version present wins, but its first index waits until
 * the re-embedding has covered the catalog (a share of the products) or has gone quiet (no new
 * vector of that version for a while, so stragglers whose images fail do not block it forever).
 * Until then the index already published keeps serving.
 */
final class ModelSelection {

  /** Build from {@code model}'s vectors, or hold with a reason. */
  record Decision(ModelKey model, String holdReason) {
    boolean build() {
      return holdReason == null;
    }
  }

  private final double coverage;
  private final Duration quiet;

  ModelSelection(double coverage, Duration quiet) {
    this.coverage = coverage;
    this.quiet = quiet;
  }

  /**
   * @param published model of the index being served, or null when there is none
   * @return null when the tenant has no products at all
   */
  Decision choose(Map<ModelKey, Integer> productsPerModel, Map<ModelKey, Long> lastArrivalMs, ModelKey published,
      long nowMs) {
    if (productsPerModel.isEmpty()) {
      return null;
    }
    ModelKey newest = Collections.max(productsPerModel.keySet());
    if (newest.equals(published) || productsPerModel.size() == 1) {
      return new Decision(newest, null);
    }
    int total = productsPerModel.values().stream().mapToInt(Integer::intValue).sum();
    int covered = productsPerModel.get(newest);
    if (covered >= Math.ceil(coverage * total)) {
      return new Decision(newest, null);
    }
    long quietFor = nowMs - lastArrivalMs.getOrDefault(newest, 0L);
    if (quietFor >= quiet.toMillis()) {
      return new Decision(newest, null);
    }
    return new Decision(newest, String.format("model %s covers %d of %d products (%.1f%%); waiting for %.1f%% or %s"
        + " without a new vector of it", newest, covered, total, 100.0 * covered / total, 100 * coverage, quiet));
  }

  /** When a held decision may change by itself (the quiet period running out). */
  long recheckAtMs(Map<ModelKey, Long> lastArrivalMs, ModelKey model) {
    return lastArrivalMs.getOrDefault(model, 0L) + quiet.toMillis();
  }
}
