package io.visualsearch.searchapi.fresh;

import io.visualsearch.searchapi.index.LoadedIndex;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The fresh delta of every tenant that has a served index. The vectors the deltas keep after their
 * adoption (for live similar items until response-consumer's files catch up) are bounded for all
 * tenants together, shared evenly: bounded per tenant, they grew with the number of tenants, about
 * 30 MB more for each one that changed 10,000 products.
 *
 * <p>So are the vectors they hold until an index holds them ({@code SEARCH_FRESH_DELTA_MAX_VECTORS}),
 * all of them together no more than the total. Each tenant is sure of half an even share (its
 * floor); past it, a tenant takes what the total leaves once the other tenants' unused floors are
 * set aside. An even share as a ceiling gave each of 300 tenants 333 of 100,000 vectors: one
 * retailer loading new products while the others changed nothing had all but 333 of them wait for
 * its next index, an hour away for a large catalog, with the rest of the room empty. A delta that
 * may hold no more keeps deletions only.
 */
public final class TenantDeltas {

  /** Absorbed vectors all tenants' deltas keep at most together. */
  static final int MAX_ABSORBED_TOTAL = FreshDelta.MAX_ABSORBED;

  private final Map<String, FreshDelta> deltas = new ConcurrentHashMap<>();
  private final int absorbedTotal;
  private final int vectorsTotal;
  private final AtomicLong held = new AtomicLong();

  public TenantDeltas() {
    this(FreshDelta.MAX_VECTORS);
  }

  /** Deltas that hold at most {@code vectorsTotal} vectors together (SEARCH_FRESH_DELTA_MAX_VECTORS). */
  public TenantDeltas(int vectorsTotal) {
    this(MAX_ABSORBED_TOTAL, vectorsTotal);
  }

  TenantDeltas(int absorbedTotal, int vectorsTotal) {
    this.absorbedTotal = absorbedTotal;
    this.vectorsTotal = vectorsTotal;
  }

  /** Called when a version becomes served: the tenant's delta adopts its floor and model. */
  public void rebase(LoadedIndex index) {
    boolean[] added = {false};
    FreshDelta delta = deltas.computeIfAbsent(index.tenant(), t -> {
      added[0] = true;
      FreshDelta[] self = new FreshDelta[1];
      self[0] = new FreshDelta(this::absorbedShare, holding -> vectorCap(self[0], holding), held, vectorsTotal);
      return self[0];
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

  /** Half an even share: what each tenant's delta may hold whatever the others do. */
  private int vectorFloor() {
    return (int) Math.max(1, vectorsTotal / (2L * Math.max(1, deltas.size())));
  }

  /**
   * The vectors {@code delta}, holding {@code holding}, may hold now: its floor, or more while the
   * total leaves room beside the floors the other tenants have not used. Reads the others' counts
   * without their locks (the caller holds its own); two tenants growing at once may pass a third's
   * floor by a record or two, never the total, which each delta checks on its own.
   */
  private int vectorCap(FreshDelta delta, int holding) {
    int floor = vectorFloor();
    long unusedFloors = 0;
    for (FreshDelta other : deltas.values()) {
      if (other != delta) {
        unusedFloors += Math.max(0, floor - other.heldNow());
      }
    }
    long room = vectorsTotal - unusedFloors - held.get();
    return (int) Math.min(Integer.MAX_VALUE, Math.max(floor, holding + Math.max(0, room)));
  }

  /** Vectors all deltas hold (not deletions). */
  public long totalVectors() {
    return held.get();
  }

  /** Vector records refused for want of room, all tenants, since the start. */
  public long refused() {
    return deltas.values().stream().mapToLong(FreshDelta::refused).sum();
  }

  /** The tenants whose deltas are full: their further changes wait for their next index. */
  public List<String> full() {
    return deltas.entrySet().stream().filter(e -> e.getValue().full()).map(Map.Entry::getKey).sorted().toList();
  }

  /** The vectors each tenant's delta may hold whatever the others hold. */
  public int vectorFloorNow() {
    return vectorFloor();
  }

  /** The tenant's delta, or null when the tenant has no served index (its records are not kept). */
  public FreshDelta of(String tenant) {
    return deltas.get(tenant);
  }

  public int totalSize() {
    return deltas.values().stream().mapToInt(FreshDelta::size).sum();
  }
}
