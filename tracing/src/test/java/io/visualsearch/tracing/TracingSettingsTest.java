package io.visualsearch.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TracingSettingsTest {

  @Test
  void anEndpointThatIsNoUrlIsAConfigurationErrorNamingTheVariable() {
    for (String bad : new String[] {"zipkin:9411", "127.0.0.1:9411/api/v2/spans", "ftp://zipkin/api"}) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> TracingSettings.definition().parse(Map.of("ZIPKIN_ENDPOINT", bad)), bad);
      assertTrue(e.getMessage().contains("ZIPKIN_ENDPOINT"), e.getMessage());
    }
  }

  @Test
  void noneWithStraySpaceAndHttpUrlsAreAccepted() {
    for (String good : new String[] {"none ", "NONE", "http://zipkin:9411/api/v2/spans", "https://z.example/api/v2/spans"}) {
      assertEquals(good, TracingSettings.definition().parse(Map.of("ZIPKIN_ENDPOINT", good))
          .get(TracingSettings.ZIPKIN_ENDPOINT));
    }
    try (Tracing t = Tracing.create("svc", "i", TracingSettings.definition().parse(Map.of("ZIPKIN_ENDPOINT", "none ")))) {
      assertTrue(t.tracer() != null, "'none ' disables export instead of failing the start");
    }
  }
}
