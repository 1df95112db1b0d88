package io.visualsearch.catalogdownloader;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import io.visualsearch.imagefetch.AddressPolicy;
import io.visualsearch.runtime.ScratchDirectory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Settings of the catalog-downloader. */
public final class CatalogDownloaderSettings {

  public static final Setting<List<String>> SOURCES = Setting.list("CATALOG_SOURCES").defaultValue(List.of())
      .validate(l -> l.stream().allMatch(FeedLocation::isValid) && FeedLocation.tenantsAreUnique(l)
              && FeedLocation.feedsAreUnique(l),
          "a comma list of tenant=url (http(s)://, s3://bucket/key or file:///path), one per tenant (two feeds of one"
              + " tenant would each delete the other's products) and one tenant per feed (a second tenant would"
              + " publish the first one's catalog as its own)")
      .shownAs(FeedLocation::displaySpecs)
      .doc("Feed sources, e.g. acme=https://acme.example/feed.tsv.gz,shop=s3://feeds/shop.xml. An s3:// feed is read"
          + " with this deployment's own S3 settings (S3_ENDPOINT, S3_REGION, S3_PATH_STYLE) and credentials"
          + " (S3_ACCESS_KEY/S3_SECRET_KEY or the default chain, e.g. IRSA): its bucket must be in that store and"
          + " region and readable by them; serve a feed from elsewhere over https. user:password@ in an http(s) URL"
          + " is HTTP basic authentication, sent to the feed's own host only (percent-encode @ : / ? # in them)."
          + " Logs (the start-up configuration and its errors too), reports, records and traces show each URL"
          + " without user info and with query values masked; deployments keep it in a Secret.");
  public static final Setting<Boolean> S3_FEEDS_PER_TENANT_PREFIX = Setting.bool("CATALOG_S3_FEEDS_PER_TENANT_PREFIX")
      .defaultValue(false)
      .doc("When true, a tenant's s3:// feed must have a key under <tenant>/ (acme=s3://feeds/acme/feed.xml), so one"
          + " tenant's feed URL cannot name another's in a shared feed bucket. An s3:// feed in S3_BUCKET, the"
          + " deployment's own bucket, is refused either way.");
  public static final Setting<String> FILE_FEED_ROOT = Setting.string("CATALOG_FILE_FEED_ROOT").optional()
      .validate(FeedRules::isRootPath, "an absolute directory path")
      .doc("Directory file:// feeds must be under (e.g. /feeds); any other file:// feed stops the service at start."
          + " Unset, a file:// feed may be any file the service can read, and a warning says so at start.");
  public static final Setting<Duration> INTERVAL = Setting.duration("CATALOG_SYNC_INTERVAL")
      .defaultValue(Duration.ofMinutes(15)).validate(d -> d.isZero() || d.toMillis() >= 1000, "0s or at least 1s")
      .doc("How often every source is synced (a tenant whose last scheduled sync still waits or runs is not queued"
          + " again); 0s syncs only on demand (POST /sync?tenant=... on the ops port).");
  public static final Setting<Duration> SYNC_RETRY = Setting.duration("CATALOG_SYNC_RETRY")
      .defaultValue(SyncScheduler.FAILED_RETRY).validate(d -> d.isZero() || d.toMillis() >= 1000, "0s or at least 1s")
      .doc("How soon a scheduled sync that failed (the object store, the broker, the feed host's outage or connection)"
          + " is tried again; each further failure in a row doubles it, up to CATALOG_SYNC_INTERVAL, less up to a fifth"
          + " at random, and never sooner than the failed sync took. A sync applied, unchanged or refused starts it"
          + " over; a refused feed is not retried before the next interval. 0s waits for the next interval.");
  public static final Setting<Integer> SYNC_THREADS = Setting.integer("CATALOG_SYNC_THREADS").defaultValue(4)
      .validate(n -> n >= 1 && n <= 64, "1 to 64")
      .doc("How many tenants' syncs run at once on an instance (a tenant's own syncs never overlap), so a feed host"
          + " slow to send its feed holds only its own tenant's sync. Downloads overlap; diffing a downloaded feed"
          + " against the last snapshot and sending its changes, which holds the catalog in the heap (see"
          + " CATALOG_MAX_PRODUCTS), is one sync at a time, the others waiting with their feed spooled on disk:"
          + " CATALOG_SPOOL_DIR may hold this many feeds of up to CATALOG_MAX_FEED_BYTES.");
  public static final Setting<Double> MAX_DELETE_SHARE = Setting.decimal("CATALOG_MAX_DELETE_SHARE").defaultValue(0.5)
      .validate(d -> d > 0 && d <= 1, "in (0, 1]")
      .doc("A feed that would delete more than this share of a tenant's products is refused, not applied.");
  public static final Setting<Integer> GUARD_MIN_CATALOG = Setting.integer("CATALOG_GUARD_MIN_PRODUCTS")
      .defaultValue(20).validate(n -> n >= 0, "non-negative")
      .doc("Catalogs smaller than this are not protected by the deletion guard.");
  public static final Setting<Integer> MAX_ROW_BYTES = Setting.integer("CATALOG_MAX_ROW_BYTES").defaultValue(512 << 10)
      .validate(n -> n >= 1024, "at least 1024")
      .doc("A longer feed row (UTF-8 bytes; for XML, an item's text) is rejected (reported), not buffered. The service"
          + " does not start when this is more than one Kafka record may carry: the producer's max.request.size (Kafka's "
          + RecordSizeLimit.KAFKA_DEFAULT_MAX_REQUEST_BYTES + " unless KAFKA_CLIENT_PROPERTIES sets it) less "
          + RecordSizeLimit.HEADROOM_BYTES + " for headers; a product whose record would still be larger is a rejected"
          + " row too.");
  public static final Setting<Long> MAX_FEED_BYTES = Setting.longInt("CATALOG_MAX_FEED_BYTES").defaultValue(4L << 30)
      .validate(n -> n > 0, "positive").doc("Largest feed download accepted (decompressed bytes are bounded too).");
  public static final Setting<Long> MAX_PRODUCTS = Setting.longInt("CATALOG_MAX_PRODUCTS").defaultValue(500_000L)
      .validate(n -> n > 0, "positive")
      .doc("A feed with more valid products is refused (TOO_LARGE), nothing applied: a sync holds each product's id,"
          + " and the previous snapshot's, in memory (about 1 KiB of heap a product); raise it with the heap.");
  public static final Setting<List<String>> FEED_ALLOW = Setting.list("CATALOG_FEED_ALLOW").defaultValue(List.of())
      .validate(AddressPolicy::isValidExceptions, "a comma list of CIDRs, IP addresses or exact host names")
      .doc("Non-public hosts an http(s) feed may be downloaded from, e.g. 10.20.0.0/16 or feeds.corp.example; empty ="
          + " public internet only. Loopback, private, link-local and cloud-metadata addresses are refused for every"
          + " other host, the feed URL's own included: the retailer runs its DNS, and could point it inside the cluster.");
  public static final Setting<Duration> HTTP_TIMEOUT = Setting.duration("CATALOG_HTTP_TIMEOUT")
      .defaultValue(Duration.ofMinutes(5)).validate(d -> d.toMillis() >= 1000, "at least 1s")
      .doc("Time allowed for one feed download.");
  public static final Setting<Duration> RECOVERY_TIMEOUT = Setting.duration("CATALOG_STATE_RECOVERY_TIMEOUT")
      .defaultValue(Duration.ofMinutes(10)).validate(d -> d.toMillis() >= 1000, "at least 1s")
      .doc("Time allowed to read catalog.products to its end when a tenant that synced before has lost its snapshot"
          + " (catalog/<tenant>/snapshot.bin gone or unreadable): the ids the topic holds for the tenant are then each"
          + " sent again, upserted if in the feed, else tombstoned. The whole topic is read, every tenant's records.");
  public static final Setting<Duration> SYNC_REPLY_WAIT = Setting.duration("CATALOG_SYNC_REPLY_WAIT")
      .defaultValue(Duration.ofMinutes(5)).validate(d -> !d.isNegative(), "non-negative")
      .doc("How long POST /sync waits for the sync's report before answering 202 Accepted instead; the sync goes on"
          + " and GET /sync?tenant=... shows its report. No ops thread waits meanwhile; 0s answers 202 at once.");

  public static final Setting<String> SPOOL_DIR = Setting.string("CATALOG_SPOOL_DIR")
      .defaultValue(Path.of(System.getProperty("java.io.tmpdir"), "catalog-downloader-spool").toString())
      .describeDefault("catalog-downloader-spool in the JVM's temporary directory")
      .validate(ScratchDirectory::isDirectoryPath, "a directory path")
      .doc("Local directory a feed is spooled to while a sync reads it (up to CATALOG_MAX_FEED_BYTES a sync, and"
          + " CATALOG_SYNC_THREADS syncs at once);"
          + " what a killed instance left there is removed when the next one starts.");

  private CatalogDownloaderSettings() {}

  /** Where an http(s) feed may be downloaded from. */
  static AddressPolicy feedAddresses(Config config) {
    return AddressPolicy.of(config.get(FEED_ALLOW));
  }

  public static ConfigDef definition() {
    return new ConfigDef().define(SOURCES, S3_FEEDS_PER_TENANT_PREFIX, FILE_FEED_ROOT, INTERVAL, SYNC_RETRY,
        SYNC_THREADS, MAX_DELETE_SHARE, GUARD_MIN_CATALOG, MAX_ROW_BYTES, MAX_FEED_BYTES, MAX_PRODUCTS, FEED_ALLOW, HTTP_TIMEOUT,
        SYNC_REPLY_WAIT, RECOVERY_TIMEOUT, SPOOL_DIR);
  }
}
