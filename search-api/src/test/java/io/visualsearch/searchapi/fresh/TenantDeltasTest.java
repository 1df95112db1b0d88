package io.visualsearch.searchapi.fresh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.visualsearch.searchapi.index.LoadedIndex;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TenantDeltasTest {

  /**
   * The vectors kept after an adoption are bounded for all tenants together: bounded per tenant,
   * every tenant added another 10,000 vectors' worth of heap.
   */
  @Test
  void absorbedVectorsAreSharedOutAmongTheTenants() {
    TenantDeltas deltas = new TenantDeltas(4, 1_000);
    deltas.rebase(ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L)));
    for (int i = 0; i < 4; i++) {
      deltas.of("acme").accept(new DeltaEntry("sku-" + i, 0, 11 + i, "default", 1, new float[] {1, i}, 0));
    }
    LoadedIndex acme2 = ShardlessVersions.of("acme", "v2", 1, 2, Map.of(0, 20L));
    deltas.rebase(acme2);
    assertEquals(4, deltas.of("acme").snapshot(acme2).absorbed().size(), "one tenant: all of it");

    deltas.rebase(ShardlessVersions.of("globex", "v1", 1, 2, Map.of(0, 30L)));
    assertEquals(2, deltas.of("acme").snapshot(acme2).absorbed().size(), "two: half each, at once");
  }
}
