package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** When a swap round is done: every tenant published a new version and shoppers got answers from it. */
class SwapUnderLoadScenarioTest {

  private static final Map<String, String> BEFORE = Map.of("a", "v1", "b", "v7");

  @Test
  void aPointerThatMovedIsNotEnoughUntilAnAnswerCameFromTheNewVersion() {
    Map<String, String> now = Map.of("a", "v2", "b", "v8");

    assertEquals(List.of("a published v2 but no answer came from it", "b published v8 but no answer came from it"),
        SwapUnderLoadScenario.notYetServed(BEFORE, now, Set.of("a@v1", "b@v7")),
        "search-api still answers from the old versions");
    assertEquals(List.of("b published v8 but no answer came from it"),
        SwapUnderLoadScenario.notYetServed(BEFORE, now, Set.of("a@v1", "a@v2", "b@v7")));
    assertEquals(List.of(), SwapUnderLoadScenario.notYetServed(BEFORE, now, Set.of("a@v2", "b@v8")));
  }

  @Test
  void aTenantWhosePointerDidNotMoveIsWaitedFor() {
    assertEquals(List.of("b published no new version"),
        SwapUnderLoadScenario.notYetServed(BEFORE, Map.of("a", "v2", "b", "v7"), Set.of("a@v2", "b@v7")));
  }
}
