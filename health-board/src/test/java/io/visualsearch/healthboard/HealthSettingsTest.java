package io.visualsearch.healthboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.ConfigException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HealthSettingsTest {

  @Test
  void aFailingWindowLongerThanTheHourTheBoardKeepsIsRefused() {
    // The board counts per minute over one hour: 2h would count 60 minutes and say 120.
    ConfigException e = assertThrows(ConfigException.class,
        () -> HealthSettings.definition().parse(Map.of("HEALTH_FAILING_WINDOW", "2h")));
    assertTrue(e.getMessage().contains("HEALTH_FAILING_WINDOW"), e.getMessage());
    assertEquals(Duration.ofHours(1), HealthSettings.definition().parse(Map.of("HEALTH_FAILING_WINDOW", "1h"))
        .get(HealthSettings.FAILING_WINDOW));
  }
}
