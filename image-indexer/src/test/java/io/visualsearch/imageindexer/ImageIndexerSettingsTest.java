package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import io.visualsearch.imagefetch.FetchConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ImageIndexerSettingsTest {

  static Map<String, String> minimal() {
    Map<String, String> env = new HashMap<>();
    env.put("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092");
    env.put("S3_BUCKET", "visual-search");
    return env;
  }

  @Test
  void runsWithOnlyTheEndpointsSet() {
    Config c = ImageIndexerService.definition().parse(minimal());
    assertEquals(8, c.get(ImageIndexerSettings.CONCURRENCY));
    assertEquals(List.of(), c.get(ImageIndexerSettings.FETCH_ALLOW));
    assertEquals(FetchConfig.defaults(), ImageIndexerSettings.fetchConfig(c));
  }

  @Test
  void fetchAndValidationLimitsComeFromTheEnvironment() {
    Map<String, String> env = minimal();
    env.put("IMAGE_FETCH_TOTAL_TIMEOUT", "3s");
    env.put("IMAGE_FETCH_MAX_BYTES", "1048576");
    env.put("IMAGE_FETCH_MAX_PER_HOST", "2");
    env.put("IMAGE_MAX_PIXELS", "40000000");
    Config c = ImageIndexerService.definition().parse(env);
    FetchConfig fetch = ImageIndexerSettings.fetchConfig(c);
    assertEquals(Duration.ofSeconds(3), fetch.totalTimeout());
    assertEquals(1 << 20, fetch.maxBytes());
    assertEquals(2, fetch.maxPerHost());
    assertEquals(1 << 20, ImageIndexerSettings.validationPolicy(c).maxInputBytes());
    assertEquals(40_000_000L, ImageIndexerSettings.validationPolicy(c).maxPixels());
  }

  @Test
  void everyRecordHandledAtOnceHasAConnectionOfItsOwn() {
    // A record waiting for a pooled connection would run out its image's time limit on our queue.
    Map<String, String> env = minimal();
    env.put("IMAGE_INDEXER_CONCURRENCY", "256");
    assertEquals(256, ImageIndexerSettings.fetchConfig(ImageIndexerService.definition().parse(env)).maxTotal());
  }

  @Test
  void aPerHostLimitAboveTheDefaultPoolIsAccepted() {
    // 100 is within the setting's 1-256, yet the pool size was set back to 64 below it and the
    // service stopped at start with "invalid fetch limits", naming no setting.
    Map<String, String> env = minimal();
    env.put("IMAGE_FETCH_MAX_PER_HOST", "100");
    FetchConfig fetch = ImageIndexerSettings.fetchConfig(ImageIndexerService.definition().parse(env));
    assertEquals(100, fetch.maxPerHost());
    assertEquals(100, fetch.maxTotal());
  }

  @Test
  void aMalformedAllowListStopsTheServiceAtStart() {
    Map<String, String> env = minimal();
    env.put("IMAGE_FETCH_ALLOW", "127.0.0.1/33");
    ConfigException e = assertThrows(ConfigException.class, () -> ImageIndexerService.definition().parse(env));
    assertTrue(e.getMessage().contains("IMAGE_FETCH_ALLOW"), e.getMessage());
  }

  @Test
  void everyVariableHasADoc() {
    ImageIndexerSettings.definition().settings().forEach(s -> assertTrue(!s.doc().isBlank(), s.env()));
  }
}
