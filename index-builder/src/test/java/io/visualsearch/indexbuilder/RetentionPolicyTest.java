package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class RetentionPolicyTest {

  private final RetentionPolicy policy = new RetentionPolicy(Duration.ofHours(24), 10);
  private final Instant now = Instant.parse("2026-11-22T12:00:00Z");
  /** When CURRENT was flipped to the current version below. */
  private final Instant flipped = Instant.parse("2026-11-22T08:00:30Z");
  private final TreeSet<String> versions = new TreeSet<>(List.of(
      "20261120T080000Z-000aaaaaa", // old
      "20261120T090000Z-000bbbbbb", // old, was current before the current one
      "20261121T080000Z-000cccccc", // old, lost a race
      "20261122T080000Z-000dddddd", // current
      "20261122T110000Z-000eeeeee", // younger than the retention period
      "20261122T115900Z-000ffffff")); // newer than current: another builder may be about to flip to it

  @Test
  void keepsCurrentPreviousNewerAndRecentVersions() {
    assertEquals(List.of("20261120T080000Z-000aaaaaa", "20261121T080000Z-000cccccc"),
        policy.deletable(versions, "20261122T080000Z-000dddddd", "20261120T090000Z-000bbbbbb", flipped, now));
  }

  @Test
  void withoutAKnownPreviousTheNewestOlderVersionIsKept() {
    assertEquals(List.of("20261120T080000Z-000aaaaaa", "20261120T090000Z-000bbbbbb"),
        policy.deletable(versions, "20261122T080000Z-000dddddd", null, flipped, now));
  }

  @Test
  void aTenantRebuiltAllDayKeepsOnlyItsNewestVersionsInsideTheRetentionPeriod() {
    TreeSet<String> busy = new TreeSet<>();
    for (int minute = 0; minute < 60; minute++) {
      busy.add(String.format("20261122T11%02d00Z-000%06d", minute, minute));
    }
    String current = "20261122T115900Z-000000059";
    String previous = "20261122T115800Z-000000058";
    List<String> deletable = new RetentionPolicy(Duration.ofHours(24), 3).deletable(busy, current, previous,
        Instant.parse("2026-11-22T11:59:30Z"), now);
    TreeSet<String> kept = new TreeSet<>(busy);
    deletable.forEach(kept::remove);
    assertEquals(List.of("20261122T115500Z-000000055", "20261122T115600Z-000000056", "20261122T115700Z-000000057",
        previous, current), List.copyOf(kept), "the newest 3 besides the previous one, it and current");
    assertEquals(List.copyOf(new TreeSet<>(deletable)), deletable, "in version order");
  }

  @Test
  void nothingIsDeletedWhenCurrentIsUnknown() {
    assertEquals(List.of(), policy.deletable(versions, null, null, null, now));
    assertEquals(List.of(), policy.deletable(versions, "20261122T090000Z-000zzzzzz", null, null, now));
  }

  /**
   * A retailer emptied the catalog: the empty version was published over the full one, and nothing
   * was built for the tenant since. The full one, every vector and SKU, was kept for good as "the
   * one before CURRENT"; it goes once the empty one has been current for the retention period.
   */
  @Test
  void theVersionBeforeCurrentGoesOnceCurrentHasBeenCurrentForTheRetentionPeriod() {
    String full = "20261120T090000Z-000bbbbbb";
    String empty = "20261121T080000Z-000dddddd";
    TreeSet<String> both = new TreeSet<>(List.of(full, empty));
    Instant emptied = Instant.parse("2026-11-21T08:00:30Z");
    assertEquals(List.of(), policy.deletable(both, empty, full, emptied, emptied.plus(Duration.ofHours(23))),
        "a reader may still be swapping");
    assertEquals(List.of(full), policy.deletable(both, empty, full, emptied, emptied.plus(Duration.ofHours(24))));
    assertEquals(List.of(full), policy.deletable(both, empty, null, emptied, emptied.plus(Duration.ofHours(24))),
        "nor is the newest older one kept in its place");
    assertEquals(List.of(), policy.deletable(both, empty, null, null, emptied.plus(Duration.ofDays(30))),
        "kept while it is not known since when CURRENT is current");
  }

  /** A retention of zero deletes old versions at once, but not one a search instance may be swapping from. */
  @Test
  void aShortRetentionStillKeepsTheVersionBeforeCurrentWhileReadersMaySwap() {
    RetentionPolicy none = new RetentionPolicy(Duration.ZERO, 10);
    String current = "20261122T080000Z-000dddddd";
    assertEquals(List.of("20261120T080000Z-000aaaaaa", "20261121T080000Z-000cccccc"),
        none.deletable(versions, current, "20261120T090000Z-000bbbbbb", now.minus(Duration.ofMinutes(59)), now));
    assertEquals(List.of("20261120T080000Z-000aaaaaa", "20261120T090000Z-000bbbbbb", "20261121T080000Z-000cccccc"),
        none.deletable(versions, current, "20261120T090000Z-000bbbbbb", now.minus(RetentionPolicy.MIN_SWAP_WINDOW),
            now), "never CURRENT nor what is newer");
  }

  @Test
  void versionsAreNamedInTimeOrder() {
    IndexVersions names = new IndexVersions();
    String a = names.next(Instant.parse("2026-11-22T08:00:00.005Z"));
    String b = names.next(Instant.parse("2026-11-22T08:00:00.040Z"));
    assertEquals(-1, Integer.signum(a.compareTo(b)));
    assertEquals(Instant.parse("2026-11-22T08:00:00Z"), IndexVersions.createdAt(a));
  }
}
