package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CatalogDownloaderSettingsTest {

  static Config parse(Map<String, String> settings) {
    Map<String, String> env = new HashMap<>(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", "S3_BUCKET", "catalog-test"));
    env.putAll(settings);
    return CatalogDownloaderService.definition().parse(env);
  }

  @Test
  void aTenantWithTwoFeedsIsRefusedAtStart() {
    // Each sync would diff against the other feed's snapshot and delete and re-add products every interval.
    ConfigException e = assertThrows(ConfigException.class,
        () -> parse(Map.of("CATALOG_SOURCES", "acme=https://a/feed.tsv,shop=https://s/f.xml,acme=https://b/feed.tsv")));
    assertEquals(1, e.problems().size(), e.getMessage());
    String problem = e.problems().get(0);
    assertTrue(problem.startsWith("CATALOG_SOURCES: "), problem);
    assertTrue(problem.contains("acme=https://a/feed.tsv") && problem.contains("acme=https://b/feed.tsv"), problem);
    assertTrue(problem.contains("one per tenant"), problem);
  }

  @Test
  void oneFeedPerTenantIsAccepted() {
    Config config = parse(Map.of("CATALOG_SOURCES", "acme=https://a/feed.tsv, shop=s3://feeds/shop.xml"));
    assertEquals(List.of("acme=https://a/feed.tsv", "shop=s3://feeds/shop.xml"),
        config.get(CatalogDownloaderSettings.SOURCES));
  }

  @Test
  void anUnusableSourceIsStillRefusedForWhatItIs() {
    ConfigException e = assertThrows(ConfigException.class, () -> parse(Map.of("CATALOG_SOURCES", "acme=ftp://a/f")));
    assertTrue(e.getMessage().contains("tenant=url"), e.getMessage());
  }

  @Test
  void feedCredentialsStayOutOfTheStartUpLogAndItsErrors() {
    String tokenFeed = "acme=https://feeds.acme.example/f.tsv?token=hunter2";
    String userInfoFeed = "shop=https://shop:swordfish@feeds.shop.example/f.xml";
    Config config = parse(Map.of("CATALOG_SOURCES", tokenFeed + "," + userInfoFeed));
    assertEquals(List.of(tokenFeed, userInfoFeed), config.get(CatalogDownloaderSettings.SOURCES), "used as given");
    String logged = config.toString();
    assertTrue(logged.contains("CATALOG_SOURCES=acme=https://feeds.acme.example/f.tsv?token=***,"
        + "shop=https://feeds.shop.example/f.xml"), logged);
    assertFalse(logged.contains("hunter2") || logged.contains("swordfish"), logged);

    ConfigException e = assertThrows(ConfigException.class,
        () -> parse(Map.of("CATALOG_SOURCES", tokenFeed + ",acme=https://other.example/f.tsv?sig=swordfish")));
    assertTrue(e.getMessage().contains("acme=https://feeds.acme.example/f.tsv?token=***"), e.getMessage());
    assertFalse(e.getMessage().contains("hunter2") || e.getMessage().contains("swordfish"), e.getMessage());
    ConfigException unparsable = assertThrows(ConfigException.class,
        () -> parse(Map.of("CATALOG_SOURCES", "acme=https://a b/?token=hunter2")));
    assertFalse(unparsable.getMessage().contains("hunter2"), unparsable.getMessage());
  }

  @Test
  void theDefaultRowLimitFitsInOneRecordOfTheDefaultProducer() {
    Config config = parse(Map.of());
    RecordSizeLimit limit = RecordSizeLimit.of(config);
    assertEquals(1 << 20, limit.maxRequestBytes(), "Kafka's own default max.request.size");
    limit.requireRowLimitFits(config.get(CatalogDownloaderSettings.MAX_ROW_BYTES));
  }

  @Test
  void aRowLimitAboveWhatTheProducerSendsIsAConfigErrorNamingBothSettings() {
    // The old default: a 1 MiB row was accepted, then refused by a 1 MiB producer with its headers.
    Config config = parse(Map.of("CATALOG_MAX_ROW_BYTES", "1048576"));
    ConfigException e = assertThrows(ConfigException.class,
        () -> RecordSizeLimit.of(config).requireRowLimitFits(config.get(CatalogDownloaderSettings.MAX_ROW_BYTES)));
    assertTrue(e.getMessage().contains("CATALOG_MAX_ROW_BYTES=1048576") && e.getMessage().contains("max.request.size")
        && e.getMessage().contains("KAFKA_CLIENT_PROPERTIES"), e.getMessage());

    Config raised = parse(Map.of("CATALOG_MAX_ROW_BYTES", "1048576",
        "KAFKA_CLIENT_PROPERTIES", "max.request.size=4194304"));
    RecordSizeLimit limit = RecordSizeLimit.of(raised);
    assertEquals(4 << 20, limit.maxRequestBytes(), "the operator's producer setting is the one the check uses");
    limit.requireRowLimitFits(raised.get(CatalogDownloaderSettings.MAX_ROW_BYTES));

    Config garbled = parse(Map.of("KAFKA_CLIENT_PROPERTIES", "max.request.size=lots"));
    assertThrows(ConfigException.class, () -> RecordSizeLimit.of(garbled));
  }

  @Test
  void aFailedSyncIsRetriedAfterThirtySecondsUnlessTurnedOff() {
    assertEquals(java.time.Duration.ofSeconds(30), parse(Map.of()).get(CatalogDownloaderSettings.SYNC_RETRY));
    assertEquals(java.time.Duration.ZERO,
        parse(Map.of("CATALOG_SYNC_RETRY", "0s")).get(CatalogDownloaderSettings.SYNC_RETRY));
    ConfigException e = assertThrows(ConfigException.class, () -> parse(Map.of("CATALOG_SYNC_RETRY", "500ms")));
    assertTrue(e.getMessage().contains("CATALOG_SYNC_RETRY"), e.getMessage());
  }
}
