package io.visualsearch.searchapi.fresh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.searchapi.index.LoadedIndex;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * With no index published for days, changes piled up in the deltas (about 3 KB each, every query
 * scanning them) until the JVM ran out of heap on every replica: the vectors they hold are capped,
 * per tenant and all together, and deletions apply past the cap.
 */
class FreshDeltaCapTest {

  private static DeltaEntry vector(String sku, long offset) {
    return new DeltaEntry(sku, 0, offset, "default", 1, new float[] {1, offset}, 0);
  }

  private static DeltaEntry deletion(String sku, long offset) {
    return new DeltaEntry(sku, 0, offset, "", 0, null, 0);
  }

  private static List<String> searchable(FreshDelta delta, LoadedIndex index) {
    return delta.snapshot(index).searchable().stream().map(DeltaEntry::sku).sorted().toList();
  }

  @Test
  void aTenantsDeltaHoldsNoMoreVectorsThanItsShareAndStillAppliesDeletions() {
    TenantDeltas deltas = new TenantDeltas(1_000, 3);
    LoadedIndex v1 = ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L));
    deltas.rebase(v1);
    FreshDelta delta = deltas.of("acme");
    for (int i = 0; i < 10; i++) {
      delta.accept(vector("sku-" + i, 11 + i));
    }
    assertEquals(3, delta.vectors());
    assertEquals(List.of("sku-0", "sku-1", "sku-2"), searchable(delta, v1));
    assertTrue(delta.full());
    assertEquals(7, delta.refused());
    assertEquals(List.of("acme"), deltas.full());

    // A product held may still change (no growth), and deletions apply past the cap.
    delta.accept(vector("sku-1", 30));
    float[] changed = delta.snapshot(v1).vectorOf("sku-1");
    assertEquals(30, changed[1] / changed[0], 1e-3, "the newer picture's vector (normalised)");
    delta.accept(deletion("sku-7", 31));
    delta.accept(deletion("sku-8", 32));
    Set<String> hidden = delta.snapshot(v1).hidden();
    assertTrue(hidden.containsAll(Set.of("sku-7", "sku-8")), "a removed product is never returned: " + hidden);
    assertEquals(3, delta.vectors());

    // A deletion of a held product frees its place; the deleted product stays hidden.
    delta.accept(deletion("sku-0", 33));
    assertEquals(2, delta.vectors());
    delta.accept(vector("sku-9", 34));
    assertEquals(List.of("sku-1", "sku-2", "sku-9"), searchable(delta, v1));
    assertTrue(delta.snapshot(v1).hidden().contains("sku-0"));
    // A product deleted past the cap and added again with no room stays hidden, not its old vector.
    delta.accept(vector("sku-7", 35));
    assertTrue(delta.snapshot(v1).hidden().contains("sku-7"));
  }

  @Test
  void theNextIndexMakesRoomAgain() {
    TenantDeltas deltas = new TenantDeltas(1_000, 2);
    deltas.rebase(ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L)));
    FreshDelta delta = deltas.of("acme");
    for (int i = 0; i < 4; i++) {
      delta.accept(vector("sku-" + i, 11 + i));
    }
    assertTrue(delta.full());
    // v2 holds everything up to offset 13: the vectors held move out (absorbed, bounded on their own).
    LoadedIndex v2 = ShardlessVersions.of("acme", "v2", 1, 2, Map.of(0, 13L));
    deltas.rebase(v2);
    assertEquals(0, delta.vectors());
    assertFalse(delta.full());
    assertEquals(List.of(), deltas.full());
    // The follower rewinds to v2's floor: the record refused at offset 13 is read again and kept.
    delta.accept(vector("sku-2", 13));
    delta.accept(vector("sku-3", 14));
    assertEquals(List.of("sku-2", "sku-3"), searchable(delta, v2));
  }

  @Test
  void allTenantsTogetherHoldNoMoreThanTheTotal() {
    TenantDeltas deltas = new TenantDeltas(1_000, 4);
    LoadedIndex acme = ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L));
    deltas.rebase(acme);
    for (int i = 0; i < 4; i++) {
      deltas.of("acme").accept(vector("a-" + i, 11 + i));
    }
    assertEquals(4, deltas.of("acme").vectors(), "one tenant: all of it");

    // A second tenant's share is half, but acme already holds the whole total.
    LoadedIndex globex = ShardlessVersions.of("globex", "v1", 1, 2, Map.of(0, 10L));
    deltas.rebase(globex);
    deltas.of("globex").accept(vector("g-0", 20));
    assertEquals(0, deltas.of("globex").vectors());
    assertEquals(4, deltas.totalVectors());
    assertEquals(List.of("globex"), deltas.full());

    // acme's next index frees its vectors: each tenant is then sure of its floor (half an even
    // share, 1 here), and the rest goes to whoever comes first.
    deltas.rebase(ShardlessVersions.of("acme", "v2", 1, 2, Map.of(0, 15L)));
    deltas.of("globex").accept(vector("g-9", 29));
    assertEquals(List.of(), deltas.full(), "globex takes vectors again: no longer reported full");
    for (int i = 0; i < 4; i++) {
      deltas.of("globex").accept(vector("g-" + i, 21 + i));
    }
    assertEquals(3, deltas.of("globex").vectors(), "all but acme's unused floor");
    deltas.of("acme").accept(vector("a-0", 21));
    assertEquals(1, deltas.of("acme").vectors(), "acme's floor was kept for it");
    deltas.of("acme").accept(vector("a-1", 22));
    assertEquals(1, deltas.of("acme").vectors());
    assertEquals(4, deltas.totalVectors());
    assertEquals(List.of("acme", "globex"), deltas.full(), "the total is held");
  }

  /**
   * An even share as a ceiling gave each of 300 tenants 333 of 100,000 vectors: one retailer adding
   * products while the others changed nothing had all but 333 wait for its next index, the rest of
   * the room empty. A tenant takes what the others' floors leave; each is still sure of its floor.
   */
  @Test
  void aBusyTenantTakesTheRoomTheOthersLeaveAndEachStillHasItsFloor() {
    TenantDeltas deltas = new TenantDeltas(1_000, 100);
    List<String> tenants = java.util.stream.IntStream.range(0, 10).mapToObj(i -> "t" + i).toList();
    for (String t : tenants) {
      deltas.rebase(ShardlessVersions.of(t, "v1", 1, 2, Map.of(0, 10L)));
    }
    assertEquals(5, deltas.vectorFloorNow(), "half an even share of 100 among 10");
    for (int i = 0; i < 200; i++) {
      deltas.of("t0").accept(vector("big-" + i, 11 + i));
    }
    assertEquals(100 - 9 * 5, deltas.of("t0").vectors(), "all but the nine others' floors, not 10");
    assertEquals(List.of("t0"), deltas.full());
    for (String t : tenants.subList(1, 10)) {
      for (int i = 0; i < 8; i++) {
        deltas.of(t).accept(vector(t + "-" + i, 11 + i));
      }
      assertEquals(5, deltas.of(t).vectors(), t + " has its floor, no more: the total is held");
    }
    assertEquals(100, deltas.totalVectors());
  }
}
