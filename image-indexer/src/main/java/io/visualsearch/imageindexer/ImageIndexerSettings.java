package io.visualsearch.imageindexer;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import io.visualsearch.imagefetch.AddressPolicy;
import io.visualsearch.imagefetch.FetchConfig;
import io.visualsearch.imagevalidation.NormalisationSettings;
import io.visualsearch.imagevalidation.ValidationPolicy;
import java.time.Duration;
import java.util.List;

/** Settings of the image-indexer: intake, the downloader's limits and the validator's limits. */
public final class ImageIndexerSettings {

  private static final FetchConfig FETCH = FetchConfig.defaults();
  private static final ValidationPolicy IMAGE = ValidationPolicy.defaults();

  public static final Setting<Integer> CONCURRENCY = Setting.integer("IMAGE_INDEXER_CONCURRENCY").defaultValue(8)
      .validate(n -> n >= 1 && n <= 256, "between 1 and 256")
      .doc("Products handled at once (downloads in flight); records of one product stay in order.");
  public static final Setting<Integer> RECORD_ATTEMPTS = Setting.integer("IMAGE_INDEXER_RECORD_ATTEMPTS")
      .defaultValue(5).validate(n -> n >= 0, "non-negative")
      .doc("Rounds a product whose image must be downloaded (new product or image_link) is retried while its image"
          + " host keeps failing (5xx, 429, refused connection, too slow) before it goes to catalog.products.dlq; 0 retries for"
          + " ever. A product whose stored image only needs re-checking keeps it instead, without retries."
          + " Object-store failures are always retried.");
  public static final Setting<List<String>> FETCH_ALLOW = Setting.list("IMAGE_FETCH_ALLOW").defaultValue(List.of())
      .validate(AddressPolicy::isValidExceptions, "a comma list of CIDRs, IP addresses or exact host names")
      .doc("Non-public image hosts that may be fetched anyway, e.g. 127.0.0.1/32 for the demo; empty = public"
          + " internet only (loopback, private, link-local and cloud-metadata addresses refused).");
  public static final Setting<Duration> FETCH_CONNECT_TIMEOUT = Setting.duration("IMAGE_FETCH_CONNECT_TIMEOUT")
      .defaultValue(FETCH.connectTimeout()).validate(d -> d.toMillis() >= 100, "at least 100ms").doc("TCP/TLS connect limit per download attempt.");
  public static final Setting<Duration> FETCH_READ_TIMEOUT = Setting.duration("IMAGE_FETCH_READ_TIMEOUT")
      .defaultValue(FETCH.readTimeout()).validate(d -> d.toMillis() >= 100, "at least 100ms").doc("Longest silence from the image server.");
  public static final Setting<Duration> FETCH_TOTAL_TIMEOUT = Setting.duration("IMAGE_FETCH_TOTAL_TIMEOUT")
      .defaultValue(FETCH.totalTimeout()).validate(d -> d.toMillis() >= 100, "at least 100ms").doc("Wall-clock limit of one attempt, redirects included (cuts off trickling"
          + " servers); waiting for one of the host's download slots is not counted, and is itself bounded by it.");
  public static final Setting<Long> FETCH_MAX_BYTES = Setting.longInt("IMAGE_FETCH_MAX_BYTES")
      .defaultValue(FETCH.maxBytes()).validate(n -> n > 0, "positive")
      .doc("Largest image body downloaded; also the validator's input limit.");
  public static final Setting<Integer> FETCH_MAX_REDIRECTS = Setting.integer("IMAGE_FETCH_MAX_REDIRECTS")
      .defaultValue(FETCH.maxRedirects()).validate(n -> n >= 0 && n <= 20, "between 0 and 20")
      .doc("Redirects followed per download; every hop passes the address check.");
  public static final Setting<Integer> FETCH_ATTEMPTS = Setting.integer("IMAGE_FETCH_ATTEMPTS")
      .defaultValue(FETCH.maxAttempts()).validate(n -> n >= 1 && n <= 10, "between 1 and 10")
      .doc("Attempts within one round for connect errors, 429 and 5xx, with exponential backoff and jitter.");
  public static final Setting<Integer> FETCH_MAX_PER_HOST = Setting.integer("IMAGE_FETCH_MAX_PER_HOST")
      .defaultValue(FETCH.maxPerHost()).validate(n -> n >= 1 && n <= 256, "between 1 and 256")
      .doc("Concurrent downloads from one image host, so one retailer's CDN is never hammered.");
  public static final Setting<Long> MAX_PIXELS = Setting.longInt("IMAGE_MAX_PIXELS").defaultValue(IMAGE.maxPixels())
      .validate(n -> n > 0, "positive")
      .doc("Largest declared width x height, checked from the header before decoding (decompression bombs);"
          + " also the most pixels the workers decode at once, which bounds the decoders' memory.");
  public static final Setting<Duration> SWEEP_INTERVAL = Setting.duration("IMAGE_SWEEP_INTERVAL")
      .defaultValue(Duration.ofDays(1)).validate(d -> !d.isNegative(), "not negative")
      .doc("How often normalised images no product uses any more (images/<sha256> of replaced or removed pictures)"
          + " are deleted; one replica runs each sweep. 0 never deletes them.");
  public static final Setting<Duration> SWEEP_GRACE = Setting.duration("IMAGE_SWEEP_GRACE")
      .defaultValue(Duration.ofDays(7)).validate(d -> d.toMillis() >= 2, "at least 2ms")
      .doc("An image no product uses is deleted only once it was last written this long ago (by the store's clock);"
          + " an image a product takes up is written again once it is half this old. Keep it far above the time a"
          + " record takes from image-indexer to images.ready (days, not minutes).");
  public static final Setting<Duration> SWEEP_REPLAY_TIMEOUT = Setting.duration("IMAGE_SWEEP_REPLAY_TIMEOUT")
      .defaultValue(Duration.ofMinutes(30)).validate(d -> d.toMillis() > 0, "positive")
      .doc("Longest a sweep reads images.ready for the images in use; a sweep that takes longer deletes nothing and"
          + " the next one tries again.");
  /** Shared with search-api, which scales shoppers' photos to the same side. */
  public static final Setting<Integer> MAX_SIDE = NormalisationSettings.MAX_SIDE;

  private ImageIndexerSettings() {}

  public static ConfigDef definition() {
    return new ConfigDef().define(CONCURRENCY, RECORD_ATTEMPTS, FETCH_ALLOW, FETCH_CONNECT_TIMEOUT,
        FETCH_READ_TIMEOUT, FETCH_TOTAL_TIMEOUT, FETCH_MAX_BYTES, FETCH_MAX_REDIRECTS, FETCH_ATTEMPTS,
        FETCH_MAX_PER_HOST, MAX_PIXELS, MAX_SIDE, SWEEP_INTERVAL, SWEEP_GRACE, SWEEP_REPLAY_TIMEOUT);
  }

  static FetchConfig fetchConfig(Config config) {
    return FETCH
        .withTimeouts(config.get(FETCH_CONNECT_TIMEOUT), config.get(FETCH_READ_TIMEOUT),
            config.get(FETCH_TOTAL_TIMEOUT))
        .withMaxBytes(config.get(FETCH_MAX_BYTES))
        .withMaxRedirects(config.get(FETCH_MAX_REDIRECTS))
        .withRetries(config.get(FETCH_ATTEMPTS), FETCH.backoffBase(), FETCH.backoffMax())
        .withMaxPerHost(config.get(FETCH_MAX_PER_HOST))
        // A connection for every record handled at once: a wait for one of our own pooled
        // connections would be cut off by the image's time limit and blamed on its host. And
        // never fewer than one host may have: FetchConfig refuses that.
        .withMaxTotal(Math.max(Math.max(FETCH.maxTotal(), config.get(CONCURRENCY)), config.get(FETCH_MAX_PER_HOST)));
  }

  static AddressPolicy addressPolicy(Config config) {
    return AddressPolicy.of(config.get(FETCH_ALLOW));
  }

  static ValidationPolicy validationPolicy(Config config) {
    // The validator must accept whatever the fetcher was allowed to download.
    return new ValidationPolicy(config.get(FETCH_MAX_BYTES), config.get(MAX_PIXELS), config.get(MAX_SIDE),
        IMAGE.minSide(), IMAGE.formats());
  }
}
