package io.visualsearch.searchapi.fresh;

import io.visualsearch.searchapi.index.LoadedIndex;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fresh delta of every tenant that has a served index. The vectors the deltas keep after their
 * adoption (for live similar items until response-consumer's files catch up) are bounded for all
 * tenants together, shared evenly: bounded per tenant, they grew with the number of tenants, about
 * 30 MB more for each one that changed 10,000 products.
 */
public final class TenantDeltas {

  /** Absorbed vectors all tenants' deltas keep at most together. */
  static final int MAX_ABSORBED_TOTAL = FreshDelta.MAX_ABSORBED;

  private final Map<String, FreshDelta> deltas = new ConcurrentHashMap<>();
  private final int absorbedTotal;

  public TenantDeltas() {
    this(MAX_ABSORBED_TOTAL);
  }

  TenantDeltas(int absorbedTotal) {
    this.absorbedTotal = absorbedTotal;
  }

  /** Called when a version becomes served: the tenant's delta adopts its floor and model. */
  public void rebase(LoadedIndex index) {
    boolean[] added = {false};
    FreshDelta delta = deltas.computeIfAbsent(index.tenant(), t -> {
      added[0] = true;
      return new FreshDelta(this::absorbedShare);
    });
    delta.rebase(index);
    if (added[0]) {
      // A new tenant's share comes out of the others' at once, not at their next adoption.
      deltas.values().forEach(FreshDelta::trimAbsorbed);
    }
  }

  private int absorbedShare() {
    return Math.max(1, absorbedTotal / Math.max(1, deltas.size()));
  }

  /** The tenant's delta, or null when the tenant has no served index (its records are not kept). */
  public FreshDelta of(String tenant) {
    return deltas.get(tenant);
  }

  public int totalSize() {
    return deltas.values().stream().mapToInt(FreshDelta::size).sum();
  }
}
