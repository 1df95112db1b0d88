package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RebuildScheduleTest {

  private static final long HOUR = 3_600_000;
  private final RebuildSchedule schedule = new RebuildSchedule(Duration.ofSeconds(2), Duration.ofSeconds(10),
      Duration.ofMillis(HOUR));

  private List<String> due(long nowMs) {
    return schedule.due(nowMs).stream().map(RebuildSchedule.Ticket::tenant).toList();
  }

  private RebuildSchedule.Ticket start(String tenant, long nowMs) {
    RebuildSchedule.Ticket t = schedule.due(nowMs).stream().filter(x -> x.tenant().equals(tenant)).findFirst().orElseThrow();
    schedule.started(t, nowMs);
    return t;
  }

  @Test
  void aBurstOfChangesBecomesOneBuildAfterTheQuietPeriod() {
    schedule.changed("acme", 0);
    schedule.changed("acme", 1_500);
    assertEquals(List.of(), due(3_000));
    assertEquals(List.of("acme"), due(3_500));
    RebuildSchedule.Ticket t = start("acme", 3_500);
    assertEquals(RebuildSchedule.Trigger.CHANGED, t.trigger());
    schedule.succeeded(t, 3_600);
    assertEquals(List.of(), due(10_000));
  }

  @Test
  void aSteadyTrickleIsBuiltAtTheMaximumDelay() {
    for (long t = 0; t <= 9_000; t += 1_000) {
      schedule.changed("acme", t);
      assertEquals(List.of(), due(t));
    }
    schedule.changed("acme", 10_000);
    assertEquals(List.of("acme"), due(10_000));
  }

  @Test
  void changesDuringABuildTriggerTheNextOne() {
    schedule.changed("acme", 0);
    RebuildSchedule.Ticket t = start("acme", 2_000);
    schedule.changed("acme", 2_500);
    schedule.succeeded(t, 3_000);
    assertEquals(List.of("acme"), due(4_500));
  }

  @Test
  void aTenantsNextBuildWaitsAsLongAsItsLastOneTook() {
    // A catalog of millions: its build took two minutes, and its changes never stop.
    schedule.changed("big", 0);
    RebuildSchedule.Ticket t = start("big", 2_000);
    schedule.changed("big", 60_000);
    schedule.succeeded(t, 122_000);
    assertEquals(List.of(), due(200_000), "rebuilt back to back");
    assertEquals(List.of("big"), due(242_000));
    // A small catalog's build, shorter than the quiet period, changes nothing.
    schedule.changed("small", 0);
    RebuildSchedule.Ticket s = start("small", 2_000);
    schedule.changed("small", 2_100);
    schedule.succeeded(s, 2_300);
    assertEquals(List.of("small"), due(4_100));
  }

  @Test
  void aFailedBuildKeepsItsChangesAndBacksOff() {
    schedule.changed("acme", 0);
    RebuildSchedule.Ticket t = start("acme", 2_000);
    assertEquals(1_000, schedule.failed(t, 2_100));
    assertEquals(List.of(), due(3_000));
    RebuildSchedule.Ticket again = start("acme", 3_100);
    assertEquals(2_000, schedule.failed(again, 3_200), "backoff doubles");
    assertEquals(List.of(), due(5_100));
    assertEquals(List.of("acme"), due(5_200));
  }

  @Test
  void aHeldBuildIsLookedAtAgainAtTheRecheckTimeOrMaximumDelay() {
    schedule.changed("acme", 0);
    RebuildSchedule.Ticket t = start("acme", 2_000);
    schedule.held(t, 2_000, 6_000);
    assertEquals(List.of(), due(5_999));
    assertEquals(List.of("acme"), due(6_000));
    RebuildSchedule.Ticket t2 = start("acme", 6_000);
    schedule.held(t2, 6_000, 600_000);
    assertEquals(List.of(), due(15_999));
    assertEquals(List.of("acme"), due(16_000), "rechecked at the maximum delay at the latest");
  }

  @Test
  void replayedTenantsAreCheckedOnceAndEveryTenantPeriodically() {
    schedule.replayed(List.of("acme"), 0);
    RebuildSchedule.Ticket t = start("acme", 0);
    assertEquals(RebuildSchedule.Trigger.STARTUP, t.trigger());
    schedule.succeeded(t, 100);
    long first = 100 + RebuildSchedule.phaseMs("acme", HOUR);
    assertEquals(List.of(), due(first - 1));
    RebuildSchedule.Ticket periodic = start("acme", first);
    assertEquals(RebuildSchedule.Trigger.PERIODIC, periodic.trigger());
    schedule.succeeded(periodic, first + 100);
    assertEquals(List.of(), due(first + 100 + HOUR - 1), "then a whole period after each check");
    assertEquals(RebuildSchedule.Trigger.PERIODIC, schedule.due(first + 100 + HOUR).get(0).trigger());
  }

  /**
   * Every tenant is checked at start-up; had each been due a whole period after its check, all of
   * them came due at once and were rebuilt back to back on the one build thread.
   */
  @Test
  void periodicChecksAfterAStartAreSpreadOverThePeriod() {
    List<String> shops = IntStream.range(0, 300).mapToObj(i -> "shop-" + i).toList();
    schedule.replayed(shops, 0);
    for (RebuildSchedule.Ticket t : schedule.due(0)) {
      schedule.started(t, 0);
      schedule.succeeded(t, 0);
    }
    assertEquals(List.of(), due(0));
    Map<String, Long> firstDue = new HashMap<>();
    int[] perTenth = new int[10];
    for (int tenth = 1; tenth <= 10; tenth++) {
      long at = tenth * HOUR / 10;
      for (RebuildSchedule.Ticket t : schedule.due(at)) {
        assertEquals(RebuildSchedule.Trigger.PERIODIC, t.trigger());
        perTenth[tenth - 1]++;
        firstDue.put(t.tenant(), at);
        schedule.started(t, at);
        schedule.succeeded(t, at);
      }
    }
    assertEquals(shops.size(), firstDue.size(), "each within a period of its start-up check");
    for (int n : perTenth) {
      assertTrue(n < 60, "about 30 in each tenth of the period: " + Arrays.toString(perTenth));
    }
    String shop = shops.get(0);
    long at = firstDue.get(shop);
    assertFalse(due(at + HOUR - 1).contains(shop), "the period stays the period afterwards");
    assertTrue(due(at + HOUR).contains(shop));
  }

  /**
   * Another builder's newer version won the flip: it need not hold this build's changes. Counted
   * as built, they were dropped until the tenant's next change; they come back after a backoff.
   */
  @Test
  void aBuildThatLostTheFlipGivesItsChangesBackAndIsBuiltAgain() {
    schedule.changed("acme", 0);
    RebuildSchedule.Ticket t = start("acme", 2_000);
    schedule.ended(t, BuildMetrics.Outcome.LOST_RACE, 2_100, 0);
    assertEquals(List.of(), due(3_099), "backs off");
    assertEquals(List.of("acme"), due(3_100), "and is built again");
    RebuildSchedule.Ticket again = start("acme", 3_100);
    assertEquals(RebuildSchedule.Trigger.CHANGED, again.trigger());
    assertEquals(0L, again.dirtySinceMs(), "since the first change it took");
    schedule.ended(again, BuildMetrics.Outcome.PUBLISHED, 3_200, 0);
    assertEquals(List.of(), due(100_000));

    schedule.replayed(List.of("other"), 0);
    RebuildSchedule.Ticket check = start("other", 0);
    schedule.ended(check, BuildMetrics.Outcome.LOST_RACE, 100, 0);
    assertEquals(RebuildSchedule.Trigger.STARTUP, start("other", 5_000).trigger(),
        "checked again: a winner covering every change makes it up to date");

    RebuildSchedule.Ticket periodic = start("acme", 3_600_000 + 3_200);
    assertEquals(RebuildSchedule.Trigger.PERIODIC, periodic.trigger());
    schedule.ended(periodic, BuildMetrics.Outcome.LOST_RACE, 3_604_000, 0);
    assertFalse(due(3_604_999).contains("acme"), "backs off");
    assertEquals(RebuildSchedule.Trigger.CHANGED, start("acme", 3_605_000).trigger(),
        "the winner need not hold what this instance would publish");
  }
}
