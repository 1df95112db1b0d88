package io.visualsearch.searchapi.fresh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.visualsearch.searchapi.index.LoadedIndex;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FreshDeltaTest {

  @Test
  void aQueryOfAVersionLeasedBeforeASwapToAnotherModelSearchesOnlyItsOwnModelsVectors() {
    // Same dimension, so nothing but the model version tells the two spaces apart.
    LoadedIndex v1 = ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L));
    LoadedIndex v2 = ShardlessVersions.of("acme", "v2", 2, 2, Map.of(0, 20L));
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    // A query leased v1 and waits for its embedding while v2 is installed and new vectors arrive.
    delta.rebase(v2);
    delta.accept(new DeltaEntry("sku-changed", 0, 21, "default", 2, new float[] {0, 1}));
    delta.accept(new DeltaEntry("sku-old-model", 0, 22, "default", 1, new float[] {1, 0}));

    FreshDelta.Snapshot forV1 = delta.snapshot(v1);
    assertEquals(List.of("sku-old-model"), forV1.searchable().stream().map(DeltaEntry::sku).toList());
    assertEquals(Set.of("sku-old-model"), forV1.hidden(), "v1's own vector of sku-changed stays searchable");
    assertNull(delta.vectorOf("sku-changed", v1));
    assertArrayEquals(new float[] {1, 0}, delta.vectorOf("sku-old-model", v1));

    FreshDelta.Snapshot forV2 = delta.snapshot(v2);
    assertEquals(List.of("sku-changed"), forV2.searchable().stream().map(DeltaEntry::sku).toList());
    assertEquals(Set.of("sku-changed"), forV2.hidden());
    assertArrayEquals(new float[] {0, 1}, delta.vectorOf("sku-changed", v2));
  }

  @Test
  void aDeletionHidesTheProductFromEveryVersion() {
    LoadedIndex v1 = ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L));
    LoadedIndex v2 = ShardlessVersions.of("acme", "v2", 2, 2, Map.of(0, 20L));
    FreshDelta delta = new FreshDelta();
    delta.rebase(v2);
    delta.accept(new DeltaEntry("sku-gone", 0, 21, "", 0, null));
    assertEquals(Set.of("sku-gone"), delta.snapshot(v1).hidden());
    assertEquals(Set.of("sku-gone"), delta.snapshot(v2).hidden());
  }
}
