package io.visualsearch.searchapi;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import io.visualsearch.searchapi.auth.ApiKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** What an operator can set on search-api, beyond Kafka, tracing, object store and model client. */
public final class SearchApiSettings {

  public static final Setting<String> HTTP_HOST = Setting.string("SEARCH_HTTP_HOST").defaultValue("127.0.0.1")
      .doc("Address the storefront HTTP API binds to; 0.0.0.0 in containers.");
  public static final Setting<Integer> HTTP_PORT = Setting.integer("SEARCH_HTTP_PORT").defaultValue(8080)
      .validate(Setting.port(), "a TCP port (0 picks a free one)").doc("Port of the HTTP API, page and health endpoints.");
  public static final Setting<Integer> HTTP_MAX_CONNECTIONS = Setting.integer("SEARCH_HTTP_MAX_CONNECTIONS")
      .defaultValue(4096).validate(n -> n > 0, "positive")
      .doc("Connections the HTTP API holds open at once; at the cap it accepts no more until one closes (the"
          + " others wait in the kernel's accept queue). Each holds a file descriptor and up to 16 KiB of request"
          + " headers being read.");
  public static final Setting<String> GRPC_HOST = Setting.string("SEARCH_GRPC_HOST").defaultValue("127.0.0.1")
      .doc("Address the VisualSearch gRPC service binds to.");
  public static final Setting<Integer> GRPC_PORT = Setting.integer("SEARCH_GRPC_PORT").defaultValue(8090)
      .validate(p -> p >= -1 && p <= 65535, "a TCP port, 0 for a free one, -1 to disable gRPC")
      .doc("Port of the VisualSearch gRPC service.");
  public static final Setting<Duration> GRPC_MESSAGE_TIMEOUT = Setting.duration("SEARCH_GRPC_MESSAGE_TIMEOUT")
      .defaultValue(Duration.ofSeconds(30)).validate(d -> d.toMillis() >= 100 && d.toMinutes() <= 10,
          "between 100ms and 10m")
      .doc("A gRPC call whose request has not arrived whole this long after the call started is closed with"
          + " DEADLINE_EXCEEDED request_timeout, giving its place back; the search itself is not timed by it.");
  public static final Setting<List<String>> API_KEYS = Setting.list("SEARCH_API_KEYS").defaultValue(List.of())
      // The whole check, here: deployment checks that parse the definition catch a short key in a
      // manifest, not the pod's start.
      .validate(pairs -> ApiKeys.parse(pairs) != null, "a comma list of tenant:key, each tenant a valid name (lower-case letters,"
          + " digits, '-' and '_'), each key at least 16 characters and given to one tenant")
      .secret()
      .doc("API keys as tenant:key pairs; a key decides the tenant a request searches.");
  public static final Setting<String> API_KEYS_FILE = Setting.string("SEARCH_API_KEYS_FILE").optional()
      .doc("File with one 'tenant:key' per line (# comments), read at start, in addition to SEARCH_API_KEYS.");
  public static final Setting<Long> MAX_UPLOAD_BYTES = Setting.longInt("SEARCH_MAX_UPLOAD_BYTES")
      .defaultValue(10L * 1024 * 1024).validate(n -> n >= 1024, "at least 1024")
      .doc("Largest request body accepted (413 above it).");
  public static final Setting<Long> MAX_IMAGE_PIXELS = Setting.longInt("SEARCH_MAX_IMAGE_PIXELS")
      .defaultValue(40_000_000L).validate(n -> n > 0, "positive")
      .doc("Largest width*height decoded, checked from the image header before decoding (decompression bombs);"
          + " also the most pixels concurrent queries decode at once, which bounds the decoders' memory.");
  public static final Setting<Integer> MAX_CONCURRENT = Setting.integer("SEARCH_MAX_CONCURRENT").defaultValue(16)
      .validate(n -> n > 0, "positive").doc("Searches processed at once.");
  public static final Setting<Integer> MAX_QUEUED = Setting.integer("SEARCH_MAX_QUEUED").defaultValue(64)
      .validate(n -> n >= 0, "zero or more").doc("Searches allowed to wait for a slot; beyond it the answer is 503 with"
          + " Retry-After. The HTTP server has a request thread for every running or waiting search (and 16 more),"
          + " and each holds its upload in memory.");
  public static final Setting<Integer> MAX_PER_TENANT = Setting.integer("SEARCH_MAX_PER_TENANT").defaultValue(40)
      .validate(n -> n > 0, "positive").doc("Searches one tenant may have running or waiting at once; beyond it that"
          + " tenant is answered 503 with Retry-After while the others are still served (one retailer's burst or"
          + " scraper must not take every slot).");
  public static final Setting<Duration> QUEUE_TIMEOUT = Setting.duration("SEARCH_QUEUE_TIMEOUT")
      .defaultValue(Duration.ofSeconds(2)).validate(d -> !d.isNegative(), "not negative")
      .doc("How long a search waits for a slot before 503.");
  public static final Setting<Integer> DEFAULT_K = Setting.integer("SEARCH_DEFAULT_K").defaultValue(10)
      .validate(k -> k >= 1 && k <= 100, "between 1 and 100").doc("Results returned when a request gives no k.");
  public static final Setting<Integer> MAX_FETCH = Setting.integer("SEARCH_MAX_FETCH").defaultValue(4096)
      .validate(k -> k >= 100, "at least 100")
      .doc("Largest candidate list asked from one shard while over-fetching for a filtered query.");
  public static final Setting<Integer> FILTER_EXACT_MAX_MATCHES = Setting.integer("SEARCH_FILTER_EXACT_MAX_MATCHES")
      .defaultValue(20_000).validate(n -> n >= 0, "0 or more")
      .doc("When over-fetching up to SEARCH_MAX_FETCH finds fewer than k products a filter matches, every matching"
          + " product is scored exactly if the filter matches at most this many in the tenant's catalog (a scan of"
          + " it); 0 never does.");
  public static final Setting<Duration> INDEX_POLL = Setting.duration("SEARCH_INDEX_POLL_INTERVAL")
      .defaultValue(Duration.ofSeconds(60)).validate(d -> d.toMillis() >= 1000, "at least 1s")
      .doc("How often CURRENT pointers are re-read, a safety net beside index.published events.");
  public static final Setting<Integer> INDEX_LOAD_THREADS = Setting.integer("SEARCH_INDEX_LOAD_THREADS")
      .defaultValue(2).validate(n -> n >= 1 && n <= 64, "between 1 and 64")
      .doc("Tenants whose index versions load at once (one tenant's versions load one at a time, in order). A load"
          + " waits mostly on the object store: at start an instance is ready after the longest of these lanes, not"
          + " the sum of every tenant's load, and a large tenant's transfer holds only its own lane. Each lane holds a"
          + " loading version's sku and image maps on the heap beside the served ones (about 120 B a vector) until"
          + " it is installed: size the heap for the largest tenants loading at once.");
  public static final Setting<Integer> FRESH_DELTA_MAX_VECTORS = Setting.integer("SEARCH_FRESH_DELTA_MAX_VECTORS")
      .defaultValue(100_000).validate(n -> n >= 100, "at least 100")
      .doc("Changed or new product vectors the fresh deltas hold at most, all tenants together (about 3 KB of heap"
          + " each at 768 dimensions, and every query scans its tenant's); each tenant is sure of half an even share,"
          + " and takes more while the others leave room; past what it may hold a tenant's further changes wait for"
          + " its next index, deletions still apply at once.");
  public static final Setting<Long> NATIVE_MEMORY_BYTES = Setting.longInt("SEARCH_NATIVE_MEMORY_BYTES")
      .defaultValue(0L).validate(n -> n >= 0, "zero or more")
      .doc("Native memory the loaded FAISS shards of all tenants may take together, a swap's new version counted"
          + " beside the served one; a version that does not fit is not loaded (its tenant keeps the version it"
          + " serves). 0: the machine's or container's memory less the maximum heap and an allowance for the JVM's"
          + " own native memory.");
  public static final Setting<String> INDEX_DIR = Setting.string("SEARCH_INDEX_DIR").optional()
      .doc("Local directory the exact vectors of quantised shards are downloaded to, unset: search-api-index in the"
          + " JVM's temporary directory (about 3 KB a vector at 768"
          + " dimensions); each file is unlinked once open, so its space returns when its version is released."
          + " Put it on a local SSD: queries read candidates' vectors from it.");
  public static final Setting<String> STATIC_DIR = Setting.string("SEARCH_STATIC_DIR").optional()
      .doc("Serve the storefront page from this directory instead of the copy built into the jar (page development).");

  private SearchApiSettings() {}

  /** {@link #INDEX_DIR}, or its default beside the JVM's other temporary files. */
  public static Path indexDir(Config config) {
    String dir = config.get(INDEX_DIR);
    return dir != null ? Path.of(dir) : Path.of(System.getProperty("java.io.tmpdir"), "search-api-index");
  }

  public static ConfigDef definition() {
    return new ConfigDef().define(HTTP_HOST, HTTP_PORT, HTTP_MAX_CONNECTIONS, GRPC_HOST, GRPC_PORT, GRPC_MESSAGE_TIMEOUT, API_KEYS, API_KEYS_FILE,
        MAX_UPLOAD_BYTES, MAX_IMAGE_PIXELS, MAX_CONCURRENT, MAX_QUEUED, MAX_PER_TENANT, QUEUE_TIMEOUT, DEFAULT_K, MAX_FETCH,
        FILTER_EXACT_MAX_MATCHES, INDEX_POLL, INDEX_LOAD_THREADS, FRESH_DELTA_MAX_VECTORS, NATIVE_MEMORY_BYTES, INDEX_DIR, STATIC_DIR);
  }
}
