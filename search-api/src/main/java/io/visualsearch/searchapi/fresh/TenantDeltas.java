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
 * <p>So are the vectors they hold until an index holds them ({@code SEARCH_FRESH_DELTA_MAX_VECTORS}):
 * each tenant may hold an even share, and all of them together no more than the total even while a
 * tenant added since holds more than its new share. A delta past its share keeps deletions only.
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
      return new FreshDelta(this::absorbedShare, this::vectorShare, held, vectorsTotal);
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

  private int vectorShare() {
    return Math.max(1, vectorsTotal / Math.max(1, deltas.size()));
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

  /** The vectors each tenant's delta may hold now. */
  public int vectorShareNow() {
    return vectorShare();
  }

  /** The tenant's delta, or null when the tenant has no served index (its records are not kept). */
  public FreshDelta of(String tenant) {
    return deltas.get(tenant);
  }

  public int totalSize() {
    return deltas.values().stream().mapToInt(FreshDelta::size).sum();
  }
}
