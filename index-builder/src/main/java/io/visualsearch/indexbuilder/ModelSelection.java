package io.visualsearch.indexbuilder;

import java.time.Duration;
import java.util.Collections;
import java.util.Comparator;
import java.util.Map;

/**
 * Decides which model's vectors a tenant's next index is built from. An index holds one model
 * version only. The target is the model whose vectors changed last, the one the embeddings-generator
 * is producing now (ties: the newest version). After an upgrade that is the new version; after a
 * rollback (a newer version withdrawn, the catalog re-embedded with the one before) it is the older
 * one: the newest version present would otherwise go on being indexed from fewer and fewer
 * products while the model server no longer embeds queries for it. A target other than the
 * published model waits until the re-embedding has covered the catalog (a share of the products)
 * or has gone quiet (no product of any tenant re-embedded with it for a while, so stragglers whose
 * images fail do not block it forever) having covered most of it ({@code quietCoverage}): a
 * re-embedding that went quiet early is an embeddings-generator stopped mid-way, or a stray vector
 * of a model nobody re-embeds with (an old generator replica after an upgrade), and building from
 * it would drop every product it has not reached. Until then the index already published keeps
 * serving, unchanged. The published model itself is held the same way when it now covers far fewer products
 * than its index holds (or than the catalog has, when products were removed since) while another model is present: a vector of it arriving late in an upgrade
 * (an old generator still running, a rollback begun) would otherwise rebuild the served index from
 * the products not yet re-embedded, dropping the rest, which the manifest's offsets then count as
 * covered.
 */
final class ModelSelection {

  /** Build from {@code model}'s vectors, or hold with a reason. */
  record Decision(ModelKey model, String holdReason) {
    boolean build() {
      return holdReason == null;
    }
  }

  private final double coverage;
  private final double quietCoverage;
  private final Duration quiet;

  ModelSelection(double coverage, double quietCoverage, Duration quiet) {
    this.coverage = coverage;
    this.quietCoverage = quietCoverage;
    this.quiet = quiet;
  }

  /**
   * @param lastArrivalMs per model, when a changed vector of it last reached this builder for this
   *     tenant, or a product of any tenant was last re-embedded with it: the quiet period is
   *     measured on it, so it starts again after a restart's replay
   * @param lastProducedMs per model, the newest producer timestamp of a changed vector of it: the
   *     target is measured on it, the same after a replay as live
   * @param published model of the index being served, or null when there is none
   * @param publishedVectors how many products the served index holds (0 when there is none)
   * @return null when the tenant has no products at all
   */
  Decision choose(Map<ModelKey, Integer> productsPerModel, Map<ModelKey, Long> lastArrivalMs,
      Map<ModelKey, Long> lastProducedMs, ModelKey published, long publishedVectors, long nowMs) {
    if (productsPerModel.isEmpty()) {
      return null;
    }
    ModelKey newest = target(productsPerModel, lastProducedMs);
    if (productsPerModel.size() == 1) {
      return new Decision(newest, null);
    }
    boolean served = newest.equals(published);
    long catalog = productsPerModel.values().stream().mapToInt(Integer::intValue).sum();
    // The served model is measured against its own index, so stragglers of another model left
    // after an upgrade do not hold it; any other model against the whole catalog. Not against more
    // than the catalog: products removed since the index was built are no longer the tenant's, and
    // a catalog that shrank after an upgrade was otherwise held for good, its removed products
    // served. Each product of another model still counts, as it may have left the served index.
    boolean servedIndexSmaller = served && publishedVectors <= catalog;
    long total = served ? Math.min(publishedVectors, catalog) : catalog;
    int covered = productsPerModel.get(newest);
    if (covered >= Math.ceil(coverage * total)) {
      return new Decision(newest, null);
    }
    long quietFor = nowMs - lastArrivalMs.getOrDefault(newest, 0L);
    boolean enoughWhenQuiet = covered >= Math.ceil(quietCoverage * total);
    if (quietFor >= quiet.toMillis() && enoughWhenQuiet) {
      return new Decision(newest, null);
    }
    String covers = String.format("model %s covers %d of %d products%s (%.1f%%)", newest, covered, total,
        servedIndexSmaller ? " its served index holds" : "", 100.0 * covered / total);
    if (!enoughWhenQuiet) {
      return new Decision(newest, String.format("%s; waiting for %.1f%% (building after %s without a new vector of"
          + " it needs %.1f%%: is the embeddings-generator re-embedding with it?)", covers, 100 * coverage, quiet,
          100 * quietCoverage));
    }
    return new Decision(newest, String.format("%s; waiting for %.1f%% or %s without a new vector of it", covers,
        100 * coverage, quiet));
  }

  /** The model present whose vectors changed last; of equals, the newest version. */
  static ModelKey target(Map<ModelKey, Integer> productsPerModel, Map<ModelKey, Long> lastProducedMs) {
    Comparator<ModelKey> lastChanged = Comparator.comparingLong(m -> lastProducedMs.getOrDefault(m, Long.MIN_VALUE));
    return Collections.max(productsPerModel.keySet(), lastChanged.thenComparing(Comparator.naturalOrder()));
  }

  /** When a held decision may change by itself (the quiet period running out). */
  long recheckAtMs(Map<ModelKey, Long> lastArrivalMs, ModelKey model) {
    return lastArrivalMs.getOrDefault(model, 0L) + quiet.toMillis();
  }
}
