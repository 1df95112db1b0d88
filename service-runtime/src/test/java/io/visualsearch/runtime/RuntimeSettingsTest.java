package io.visualsearch.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.ConfigException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RuntimeSettingsTest {

  @Test
  void theHttpRequestTimeoutTakesZeroForNoLimitAsItsDocSays() {
    assertEquals(Duration.ZERO, RuntimeSettings.definition().parse(Map.of("SERVICE_HTTP_REQUEST_TIMEOUT", "0s"))
        .get(RuntimeSettings.HTTP_REQUEST_TIMEOUT));
    ConfigException e = assertThrows(ConfigException.class,
        () -> RuntimeSettings.definition().parse(Map.of("SERVICE_HTTP_REQUEST_TIMEOUT", "500ms")));
    assertTrue(e.getMessage().contains("SERVICE_HTTP_REQUEST_TIMEOUT"), e.getMessage());
  }
}
