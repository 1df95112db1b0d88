package io.visualsearch.searchapi.fresh;

import io.visualsearch.searchapi.index.LoadedIndex;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The fresh delta of every tenant that has a served index. */
public final class TenantDeltas {

  private final Map<String, FreshDelta> deltas = new ConcurrentHashMap<>();

  /** Called when a version becomes served: the tenant's delta adopts its floor and model. */
  public void rebase(LoadedIndex index) {
    deltas.computeIfAbsent(index.tenant(), t -> new FreshDelta()).rebase(index);
  }

  /** The tenant's delta, or null when the tenant has no served index (its records are not kept). */
  public FreshDelta of(String tenant) {
    return deltas.get(tenant);
  }

  public int totalSize() {
    return deltas.values().stream().mapToInt(FreshDelta::size).sum();
  }
}
