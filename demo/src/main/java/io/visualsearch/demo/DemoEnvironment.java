package io.visualsearch.demo;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The settings the demo gives every service: TensorFlow Serving's and the storefront's
 * conventional ports, the demo tenant's feed and key, image downloads allowed from loopback only
 * because the sample image server lives there. The process environment may override any of them;
 * the embedded stack's endpoints always win, since the stack is what the demo started.
 */
final class DemoEnvironment {

  private final Map<String, String> processEnv;
  private final Path dataDir;

  DemoEnvironment(Map<String, String> processEnv, Path dataDir) {
    this.processEnv = processEnv;
    this.dataDir = dataDir;
  }

  Path dataDir() {
    return dataDir;
  }

  Path modelBasePath() {
    return Path.of(processEnv.getOrDefault("MODEL_SERVER_BASE_PATH", "default-model/target/models")).toAbsolutePath();
  }

  Map<String, String> services(Map<String, String> stackEnv, String feedSource, String tenant, String apiKey) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("MODEL_SERVER_BASE_PATH", modelBasePath().toString());
    env.put("MODEL_SERVER_GRPC_PORT", "8500");
    env.put("MODEL_SERVER_REST_PORT", "8501");
    env.put("SEARCH_HTTP_PORT", "8080");
    env.put("SEARCH_GRPC_PORT", "8090");
    env.put("SEARCH_API_KEYS", tenant + ":" + apiKey);
    env.put("CATALOG_SOURCES", feedSource);
    // The demo's feed is a file it writes there; no other file is a feed.
    env.put("CATALOG_FILE_FEED_ROOT", dataDir.resolve("demo").toAbsolutePath().normalize().toString());
    env.put("CATALOG_SYNC_INTERVAL", "30s");
    env.put("IMAGE_FETCH_ALLOW", "127.0.0.1/32");
    env.put("TRACING_SAMPLE_RATIO", "1.0");
    env.putAll(processEnv);
    env.putAll(stackEnv);
    // A link for the viewer's browser, not an endpoint of the stack: one the user gives wins
    // (HEALTH_ZIPKIN_UI=http://devbox:9411 to read traces from another machine).
    if (processEnv.containsKey("HEALTH_ZIPKIN_UI")) {
      env.put("HEALTH_ZIPKIN_UI", processEnv.get("HEALTH_ZIPKIN_UI"));
    }
    return env;
  }
}
