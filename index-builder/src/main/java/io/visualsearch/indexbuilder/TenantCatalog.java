package io.visualsearch.indexbuilder;

import io.opentelemetry.api.trace.SpanContext;
import io.visualsearch.pipeline.PoisonRecordException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One tenant's products as the embeddings topic last described them: the latest vector of each
 * SKU, whatever model version made it. Keeping exactly what the compacted topic keeps means a
 * restart that replays the topic rebuilds the same state. Not thread-safe; {@link Catalogs}
 * serialises access.
 */
final class TenantCatalog {

  static final String WRONG_DIMENSION = "wrong-dimension";

  private final String tenant;
  private final int maxOrigins;
  private final Map<String, ProductVector> products = new HashMap<>();
  private final Map<ModelKey, Integer> productsPerModel = new HashMap<>();
  /**
   * Fixed per model for this tenant, so one bad producer cannot affect another tenant: live by the
   * first accepted vector, after the start-up replay by {@link DimensionVote}.
   */
  private final Map<ModelKey, Integer> dimensions = new HashMap<>();
  /** Non-null while the start-up replay runs: nothing is refused for its dimension until it is settled. */
  private DimensionVote vote;
  /** When a changed vector of each model last reached this builder: its quiet period. */
  private final Map<ModelKey, Long> lastArrivalMs = new HashMap<>();
  /** Per model, when a product last moved to it from another model: a re-embedding, not a catalog change. */
  private final Map<ModelKey, Long> migrationArrivalMs = new HashMap<>();
  /** The newest producer timestamp of a changed vector of each model: which model is being produced. */
  private final Map<ModelKey, Long> lastProducedMs = new HashMap<>();
  /** Per partition, the highest offset of a record that changed this tenant. */
  private final Map<Integer, Long> lastOffsets = new HashMap<>();
  private final ArrayDeque<SpanContext> recentOrigins = new ArrayDeque<>();

  TenantCatalog(String tenant, int maxOrigins) {
    this.tenant = tenant;
    this.maxOrigins = maxOrigins;
  }

  /** A catalog the start-up replay fills: {@link #settleDimensions} ends it. */
  static TenantCatalog replaying(String tenant, int maxOrigins) {
    TenantCatalog c = new TenantCatalog(tenant, maxOrigins);
    c.vote = new DimensionVote();
    return c;
  }

  /** Throws if the vector cannot belong to this tenant's index of its model. */
  void checkDimension(ProductVector p) throws PoisonRecordException {
    Integer expected = dimensions.get(p.model());
    if (expected != null && expected != p.vector().length) {
      throw new PoisonRecordException(WRONG_DIMENSION, "vector has " + p.vector().length + " dimensions; tenant "
          + tenant + " indexes model " + p.model() + " with " + expected);
    }
  }

  /**
   * Returns whether the tenant's indexable content changed.
   *
   * @param nowMs when the record reached this builder (a replay's records arrive now: a migration's
   *     quiet period starts again after a restart, rather than having run while the builder was down)
   * @param producedAtMs when it was produced (the same after a replay as live)
   */
  boolean apply(EmbeddingChange change, int partition, long offset, long nowMs, long producedAtMs)
      throws PoisonRecordException {
    if (change instanceof EmbeddingChange.Upsert u) {
      checkDimension(u.product());
      dimensions.putIfAbsent(u.product().model(), u.product().vector().length);
    }
    return record(change, partition, offset, nowMs, producedAtMs);
  }

  /**
   * A record of the start-up replay, of a catalog made {@link #replaying}: held whatever its
   * dimension until {@link #settleDimensions}, as the replay's order must not decide it.
   */
  boolean replay(EmbeddingChange change, int partition, long offset, long nowMs, long producedAtMs) {
    if (vote == null) {
      throw new IllegalStateException("tenant " + tenant + " is not being replayed");
    }
    return record(change, partition, offset, nowMs, producedAtMs);
  }

  /**
   * Ends the start-up replay: each model's dimension is the one most of its products carry, and
   * products whose latest vector has another are refused (see {@link DimensionVote}). Returns
   * how many were; 0 once settled.
   */
  int settleDimensions() {
    if (vote == null) {
      return 0;
    }
    DimensionVote.Outcome o = vote.settle(tenant, products);
    vote = null;
    dimensions.putAll(o.dimensions());
    o.lastProducedMs().forEach((model, ms) -> lastProducedMs.merge(model, ms, Math::max));
    o.lastOffsets().forEach((partition, offset) -> lastOffsets.merge(partition, offset, Math::max));
    productsPerModel.clear();
    for (ProductVector p : products.values()) {
      productsPerModel.merge(p.model(), 1, Integer::sum);
    }
    return o.refused();
  }

  private boolean record(EmbeddingChange change, int partition, long offset, long nowMs, long producedAtMs) {
    boolean changed;
    if (change instanceof EmbeddingChange.Upsert u) {
      ProductVector p = u.product();
      ProductVector old = products.put(p.sku(), p);
      changed = !p.sameContent(old);
      if (old != null) {
        productsPerModel.merge(old.model(), -1, Integer::sum);
      }
      productsPerModel.merge(p.model(), 1, Integer::sum);
      productsPerModel.values().removeIf(c -> c == 0);
      if (changed) {
        lastArrivalMs.put(p.model(), nowMs);
        // A record without a variant replaced by one naming it, in the same lane, is the same model
        // written by an upgraded generator (LegacyVariants), not a re-embedding.
        boolean sameModel = old != null && (old.model().equals(p.model())
            || old.model().variantUnknown() && old.model().sameLane(p.model()));
        if (old != null && !sameModel) {
          migrationArrivalMs.put(p.model(), nowMs);
        }
        remember(u.origin());
        if (vote != null) {
          // Whether this change counts is known once the vote is settled.
          vote.changed(p, old, partition, offset, producedAtMs);
          return true;
        }
        // The newest, not the last applied: a replay interleaves partitions in fetch order.
        lastProducedMs.merge(p.model(), producedAtMs, Math::max);
      }
    } else {
      ProductVector old = products.remove(change.sku());
      changed = old != null;
      if (old != null) {
        productsPerModel.merge(old.model(), -1, Integer::sum);
        productsPerModel.values().removeIf(c -> c == 0);
        remember(((EmbeddingChange.Delete) change).origin());
      }
      if (vote != null) {
        vote.deleted(change.sku());
      }
    }
    // A delete counts for coverage even when the product is not held: after a restart its upsert
    // may have been compacted away while the published index, built before the delete, still
    // holds it. Only an index built past the tombstone is known to leave it out.
    if (changed || change instanceof EmbeddingChange.Delete) {
      lastOffsets.merge(partition, offset, Math::max);
    }
    return changed;
  }

  private void remember(SpanContext origin) {
    if (maxOrigins == 0 || origin == null || !origin.isValid()) {
      return;
    }
    if (recentOrigins.size() == maxOrigins) {
      recentOrigins.removeFirst();
    }
    recentOrigins.addLast(origin);
  }

  /**
   * A consistent copy for one build. The span links are handed over (not copied): each change is
   * linked from the first build that starts after it, even if that build then fails.
   */
  Map<ModelKey, Long> migrationArrivals() {
    return migrationArrivalMs;
  }

  /**
   * @param arrivalsAnyTenant per model, when a product of any tenant last moved to it from another
   *     model: the quiet period of this tenant's models is measured on the later of the two
   */
  TenantSnapshot snapshot(Map<Integer, Long> watermarks, Map<ModelKey, Long> arrivalsAnyTenant) {
    List<SpanContext> origins = new ArrayList<>(recentOrigins);
    recentOrigins.clear();
    Map<ModelKey, Long> arrivals = new HashMap<>(lastArrivalMs);
    arrivalsAnyTenant.forEach((model, ms) -> arrivals.computeIfPresent(model, (m, own) -> Math.max(own, ms)));
    return new TenantSnapshot(tenant, List.copyOf(products.values()), Map.copyOf(productsPerModel),
        Map.copyOf(dimensions), Map.copyOf(arrivals), Map.copyOf(lastProducedMs), Map.copyOf(lastOffsets),
        Map.copyOf(watermarks), origins);
  }

  int size() {
    return products.size();
  }
}
