package io.visualsearch.indexbuilder;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles one tenant's dimension of each model after the start-up replay, by the products whose
 * latest record has it. Live, the first accepted vector fixes it; a replay cannot do that, because
 * it interleaves partitions in fetch order and the compacted topic may still hold vectors that
 * were refused live as the latest of their products: the first one applied could be one of those,
 * and it would then refuse every correct vector of the tenant. So nothing is refused while the
 * replay runs, and the majority decides once it has read everything.
 *
 * <p>What it holds besides a few counters per (model, dimension): for each product whose records of
 * one model come in two dimensions, its latest vector of the other one (the product keeps that one
 * when its latest record loses, as it did live while the older record is still in the topic).
 * Only such products cost a second vector, and only until {@link #settle}. Not thread-safe.
 */
final class DimensionVote {

  private static final Logger log = LoggerFactory.getLogger(DimensionVote.class);

  /** The vectors of one model with one dimension: a candidate for the model's index. */
  private record Lane(ModelKey model, int dimension) {
    static Lane of(ProductVector p) {
      return new Lane(p.model(), p.vector().length);
    }
  }

  /** What the catalog records of changes live, kept per lane until it is known whether they count. */
  private static final class Tally {
    long newestProducedMs = Long.MIN_VALUE;
    final Map<Integer, Long> lastOffsets = new HashMap<>();
  }

  /** The catalog's bookkeeping for the vectors that count, and how many products lost theirs. */
  record Outcome(Map<ModelKey, Integer> dimensions, Map<ModelKey, Long> lastProducedMs,
      Map<Integer, Long> lastOffsets, int refused) {}

  private final Map<Lane, Tally> lanes = new HashMap<>();
  /** Per SKU, its latest vectors of the current vector's model in other dimensions. */
  private final Map<String, List<ProductVector>> otherDimensions = new HashMap<>();

  /** {@code p} changed its product, replacing {@code old} (null if the product was not held). */
  void changed(ProductVector p, ProductVector old, int partition, long offset, long producedAtMs) {
    Tally t = lanes.computeIfAbsent(Lane.of(p), l -> new Tally());
    t.newestProducedMs = Math.max(t.newestProducedMs, producedAtMs);
    t.lastOffsets.merge(partition, offset, Math::max);
    if (old == null || !old.model().equals(p.model())) {
      // Live, a vector of another model replaces the product whatever came before it.
      otherDimensions.remove(p.sku());
    } else if (old.vector().length != p.vector().length) {
      List<ProductVector> others = otherDimensions.computeIfAbsent(p.sku(), s -> new ArrayList<>(1));
      others.removeIf(v -> v.vector().length == old.vector().length || v.vector().length == p.vector().length);
      others.add(old);
    }
  }

  void deleted(String sku) {
    otherDimensions.remove(sku);
  }

  /**
   * Fixes each held model's dimension on the one most of its products carry (ties: the one
   * produced last, then the larger, so that no order of the replay changes the choice), and gives
   * every product whose latest vector has another dimension its vector of the winning one, or
   * drops it when the topic holds none.
   */
  Outcome settle(String tenant, Map<String, ProductVector> products) {
    Map<Lane, Integer> votes = new HashMap<>();
    for (ProductVector p : products.values()) {
      votes.merge(Lane.of(p), 1, Integer::sum);
    }
    Map<ModelKey, Lane> winners = new HashMap<>();
    for (Lane lane : votes.keySet()) {
      winners.merge(lane.model(), lane, (a, b) -> better(a, b, votes) ? a : b);
    }
    int refused = 0;
    for (Iterator<Map.Entry<String, ProductVector>> it = products.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, ProductVector> e = it.next();
      int dimension = winners.get(e.getValue().model()).dimension();
      if (e.getValue().vector().length == dimension) {
        continue;
      }
      refused++;
      ProductVector kept = otherDimensions.getOrDefault(e.getKey(), List.of()).stream()
          .filter(v -> v.vector().length == dimension).findFirst().orElse(null);
      if (kept == null) {
        it.remove();
      } else {
        e.setValue(kept);
      }
    }
    Map<ModelKey, Integer> dimensions = new HashMap<>();
    for (Lane w : winners.values()) {
      dimensions.put(w.model(), w.dimension());
      if (votes.keySet().stream().anyMatch(l -> l.model().equals(w.model()) && !l.equals(w))) {
        log.warn("tenant {}: replayed model {} in several dimensions {}; indexing {} dimensions, the other vectors "
            + "are refused as {}", tenant, w.model(), votesOf(w.model(), votes), w.dimension(),
            TenantCatalog.WRONG_DIMENSION);
      }
    }
    // A lane counts unless it lost its model's vote: a model no product carries any more was not
    // contested, and its changes still have to be covered by an index.
    Map<ModelKey, Long> lastProducedMs = new HashMap<>();
    Map<Integer, Long> lastOffsets = new HashMap<>();
    lanes.forEach((lane, t) -> {
      Lane w = winners.get(lane.model());
      if (w == null || w.equals(lane)) {
        lastProducedMs.merge(lane.model(), t.newestProducedMs, Math::max);
        t.lastOffsets.forEach((partition, offset) -> lastOffsets.merge(partition, offset, Math::max));
      }
    });
    lanes.clear();
    otherDimensions.clear();
    return new Outcome(dimensions, lastProducedMs, lastOffsets, refused);
  }

  private boolean better(Lane a, Lane b, Map<Lane, Integer> votes) {
    int c = Integer.compare(votes.get(a), votes.get(b));
    if (c == 0) {
      c = Long.compare(lanes.get(a).newestProducedMs, lanes.get(b).newestProducedMs);
    }
    return c != 0 ? c > 0 : a.dimension() > b.dimension();
  }

  private static Map<Integer, Integer> votesOf(ModelKey model, Map<Lane, Integer> votes) {
    Map<Integer, Integer> out = new TreeMap<>();
    votes.forEach((lane, n) -> {
      if (lane.model().equals(model)) {
        out.put(lane.dimension(), n);
      }
    });
    return out;
  }
}
