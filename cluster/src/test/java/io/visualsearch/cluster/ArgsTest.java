package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ArgsTest {

  @Test
  void bothSpellingsDurationsListsAndFlags() {
    Args a = new Args(new String[] {"--kills", "3", "--soak=30m", "--tenants", "a,b", "--zipkin"},
        Set.of("kills", "soak", "tenants", "zipkin", "size"));
    assertEquals(3, a.integer("kills", 20));
    assertEquals(300, a.integer("size", 300));
    assertEquals(Duration.ofMinutes(30), a.duration("soak", Duration.ZERO));
    assertEquals(List.of("a", "b"), a.list("tenants", "x"));
    assertTrue(a.flag("zipkin"));
  }

  @Test
  void unknownOptionsAndBadValuesAreRefusedByName() {
    assertThrows(IllegalArgumentException.class, () -> new Args(new String[] {"--kils", "3"}, Set.of("kills")));
    Args a = new Args(new String[] {"--kills", "many"}, Set.of("kills"));
    assertThrows(IllegalArgumentException.class, () -> a.integer("kills", 1));
  }

  @Test
  void unknownScenarioIsAnError() {
    Args a = new Args(new String[] {"--scenarios", "kill,flood"}, Set.of("scenarios"));
    assertThrows(IllegalArgumentException.class, () -> ChaosMain.scenarios(a));
  }
}
