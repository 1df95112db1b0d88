package io.visualsearch.catalogdownloader;

import static io.visualsearch.catalogdownloader.CatalogDownloaderSettingsTest.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import io.visualsearch.runtime.ExitCode;
import io.visualsearch.runtime.ServiceHost;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Feed URLs come from retailers; these rules keep one from reading what is not its feed. */
class FeedRulesTest {

  @Test
  void aFeedInTheDeploymentsOwnBucketStopsTheServiceAtStart() {
    // S3_BUCKET is catalog-test: similar/, catalog/, images/ of every tenant are there.
    String spec = "globex=s3://catalog-test/similar/acme/sku-1.json";
    assertTrue(refused(Map.of(), spec).contains("S3_BUCKET=catalog-test"), refused(Map.of(), spec));
    assertTrue(refused(Map.of(), "globex=s3://Catalog-Test/catalog/acme/snapshot.bin").contains("own bucket"));
    allowed(Map.of(), "globex=s3://feeds/acme.xml"); // no per-tenant rule asked for

    Config config = parse(Map.of("CATALOG_SOURCES", "acme=https://a/f.tsv," + spec));
    ConfigException e = assertThrows(ConfigException.class,
        () -> CatalogDownloaderService.wire(config, new ServiceHost(CatalogDownloaderService.NAME)));
    assertEquals(1, e.problems().size(), e.getMessage());
  }

  @Test
  void withThePerTenantPrefixAnS3FeedMustBeUnderItsTenantsName() {
    Map<String, String> perTenant = Map.of("CATALOG_S3_FEEDS_PER_TENANT_PREFIX", "true");
    String problem = refused(perTenant, "globex=s3://feeds/acme/feed.xml");
    assertTrue(problem.contains("CATALOG_S3_FEEDS_PER_TENANT_PREFIX") && problem.contains("globex/"), problem);
    refused(perTenant, "globex=s3://feeds/globex/../acme/feed.xml");
    refused(perTenant, "globex=s3://feeds/globex-old/feed.xml");
    refused(perTenant, "globex=s3://feeds/globex");
    allowed(perTenant, "globex=s3://feeds/globex/feed.xml");
    refused(perTenant, "globex=s3://catalog-test/globex/feed.xml"); // still the deployment's bucket
  }

  @Test
  void withAFileFeedRootAFileFeedMustBeUnderIt() {
    Map<String, String> rooted = Map.of("CATALOG_FILE_FEED_ROOT", "/srv/feeds/");
    String problem = refused(rooted, "acme=file:///etc/passwd");
    assertTrue(problem.contains("CATALOG_FILE_FEED_ROOT=/srv/feeds"), problem);
    refused(rooted, "acme=file:///srv/feeds/../../etc/passwd");
    refused(rooted, "acme=file:///srv/feeds/%2e%2e/secrets.tsv");
    refused(rooted, "acme=file:///srv/feeds-private/acme.tsv");
    refused(rooted, "acme=file:///srv/feeds");
    refused(rooted, "acme=file:srv/feeds/acme.tsv");
    refused(rooted, "acme=file://otherhost/srv/feeds/acme.tsv");
    allowed(rooted, "acme=file:///srv/feeds/acme/./feed.tsv");
    allowed(Map.of(), "acme=file:///srv/elsewhere/acme.tsv"); // unset: unrestricted, with a warning

    ConfigException relative = assertThrows(ConfigException.class,
        () -> parse(Map.of("CATALOG_FILE_FEED_ROOT", "feeds")));
    assertTrue(relative.getMessage().contains("CATALOG_FILE_FEED_ROOT"), relative.getMessage());
  }

  @Test
  void theOneShotSyncRefusesAFeedOutsideTheRulesWithExitTwo() {
    Map<String, String> env = new HashMap<>(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092",
        "S3_BUCKET", "catalog-test", "CATALOG_FILE_FEED_ROOT", "/srv/feeds"));
    String message = stderrOfAConfigurationError(new String[] {"sync", "acme", "file:///etc/passwd"}, env);
    assertTrue(message.contains("the feed: acme=file:/etc/passwd: not a file under CATALOG_FILE_FEED_ROOT"), message);
    assertEquals(ExitCode.CONFIG_ERROR.code(),
        OneShotSync.run(new String[] {"sync", "acme", "s3://catalog-test/catalog/globex/snapshot.bin"}, env));
  }

  /** The URI parser's own words quote the whole URL, the retailer's token with it, into the job's log. */
  @Test
  void theOneShotSyncRefusesAMalformedFeedUrlWithoutQuotingIt() {
    Map<String, String> env = Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", "S3_BUCKET", "catalog-test");
    String message = stderrOfAConfigurationError(
        new String[] {"sync", "acme", "https://feeds.acme.example/f.tsv?token=s3cr3t|x"}, env);
    assertTrue(message.contains("the feed URL is not a valid URI"), message);
    assertFalse(message.contains("s3cr3t"), message);
  }

  /** What the one-shot job printed to stderr, after checking it exited with a configuration error. */
  private static String stderrOfAConfigurationError(String[] args, Map<String, String> env) {
    PrintStream stderr = System.err;
    ByteArrayOutputStream said = new ByteArrayOutputStream();
    System.setErr(new PrintStream(said, true, StandardCharsets.UTF_8));
    try {
      assertEquals(ExitCode.CONFIG_ERROR.code(), OneShotSync.run(args, env));
    } finally {
      System.setErr(stderr);
    }
    return said.toString(StandardCharsets.UTF_8);
  }

  @Test
  void twoTenantsNamingOneFeedAreRefusedAtStart() {
    // A copy/paste slip when onboarding: globex would publish acme's catalog as its own.
    ConfigException e = assertThrows(ConfigException.class,
        () -> parse(Map.of("CATALOG_SOURCES", "acme=s3://feeds/acme.xml,globex=s3://feeds/acme.xml")));
    assertTrue(e.getMessage().contains("one tenant per feed"), e.getMessage());
    assertThrows(ConfigException.class, () -> parse(Map.of("CATALOG_SOURCES",
        "acme=https://Feeds.example/a.tsv?token=1,globex=https://u:p@feeds.example/x/../a.tsv?token=1")));
    assertThrows(ConfigException.class,
        () -> parse(Map.of("CATALOG_SOURCES", "acme=file:///srv/feeds/a.tsv,globex=file:/srv/feeds/./a.tsv")));
    parse(Map.of("CATALOG_SOURCES", "acme=https://feeds.example/a.tsv?token=1,globex=https://feeds.example/a.tsv?token=2"));
  }

  private static String refused(Map<String, String> settings, String spec) {
    Config config = config(settings, spec);
    ConfigException e = assertThrows(ConfigException.class,
        () -> FeedRules.of(config).require(List.of(FeedLocation.parse(spec))), spec);
    assertEquals(1, e.problems().size(), e.getMessage());
    assertTrue(e.problems().get(0).startsWith("CATALOG_SOURCES: " + FeedLocation.parse(spec).tenant() + "="),
        e.getMessage());
    return e.problems().get(0);
  }

  private static void allowed(Map<String, String> settings, String spec) {
    FeedRules.of(config(settings, spec)).require(List.of(FeedLocation.parse(spec)));
  }

  private static Config config(Map<String, String> settings, String spec) {
    Map<String, String> env = new HashMap<>(settings);
    env.put("CATALOG_SOURCES", spec);
    return parse(env);
  }
}
