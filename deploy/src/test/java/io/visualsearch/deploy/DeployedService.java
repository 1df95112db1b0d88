package io.visualsearch.deploy;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import io.visualsearch.runtime.RuntimeSettings;
import java.lang.reflect.Method;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the deployment files are checked against: each image, the module whose jar it packages,
 * its main class and the class whose {@code definition()} lists the settings it reads. The
 * definitions are the services' own; only this table of names is written here (and it is itself
 * checked against the {@code visual-search} script's {@code service_main}).
 */
enum DeployedService {
  CATALOG_DOWNLOADER("catalog-downloader", "catalog-downloader",
      "io.visualsearch.catalogdownloader.CatalogDownloaderMain", "io.visualsearch.catalogdownloader.CatalogDownloaderService",
      Map.of("ops", "OPS_PORT")),
  IMAGE_INDEXER("image-indexer", "image-indexer",
      "io.visualsearch.imageindexer.ImageIndexerMain", "io.visualsearch.imageindexer.ImageIndexerService",
      Map.of("ops", "OPS_PORT")),
  EMBEDDINGS_GENERATOR("embeddings-generator", "embeddings-generator",
      "io.visualsearch.embeddings.EmbeddingsGeneratorMain", "io.visualsearch.embeddings.EmbeddingsGeneratorService",
      Map.of("ops", "OPS_PORT")),
  INDEX_BUILDER("index-builder", "index-builder",
      "io.visualsearch.indexbuilder.IndexBuilderMain", "io.visualsearch.indexbuilder.IndexBuilderService",
      Map.of("ops", "OPS_PORT")),
  SEARCH_API("search-api", "search-api",
      "io.visualsearch.searchapi.SearchApiMain", "io.visualsearch.searchapi.SearchApiService",
      Map.of("http", "SEARCH_HTTP_PORT", "grpc", "SEARCH_GRPC_PORT", "ops", "OPS_PORT")),
  RESPONSE_CONSUMER("response-consumer", "response-consumer",
      "io.visualsearch.responseconsumer.ResponseConsumerMain", "io.visualsearch.responseconsumer.ResponseConsumerService",
      Map.of("ops", "OPS_PORT")),
  MODEL_SERVER("model-server", "model-server",
      "io.visualsearch.modelserver.ModelServerMain", "io.visualsearch.modelserver.ModelServerService",
      Map.of("grpc", "MODEL_SERVER_GRPC_PORT", "rest", "MODEL_SERVER_REST_PORT", "ops", "OPS_PORT")),
  /** Not a service of the script: the one-shot job that creates the topics (this module). */
  TOPIC_INIT("topic-init", "deploy", "io.visualsearch.deploy.TopicInitMain", "io.visualsearch.deploy.TopicInitSettings",
      Map.of());

  /** Settings naming an address a server binds to: it must be reachable from outside the container. */
  static final List<String> BIND_HOSTS = List.of("OPS_HOST", "SEARCH_HTTP_HOST", "SEARCH_GRPC_HOST",
      "MODEL_SERVER_BIND_ADDRESS");
  /**
   * Credentials beside the settings marked secret(): they belong in Secrets, never in ConfigMaps.
   * CATALOG_SOURCES is shown redacted in logs, not masked, yet its URLs may carry feed tokens.
   */
  static final List<String> CREDENTIALS = List.of("S3_ACCESS_KEY", "S3_SECRET_KEY", "KAFKA_CLIENT_PROPERTIES",
      "SEARCH_API_KEYS", "CATALOG_SOURCES");

  final String image;
  final String module;
  final String mainClass;
  final String definitionClass;
  /** Port name -> the setting that decides it. */
  final Map<String, String> ports;

  DeployedService(String image, String module, String mainClass, String definitionClass, Map<String, String> ports) {
    this.image = image;
    this.module = module;
    this.mainClass = mainClass;
    this.definitionClass = definitionClass;
    this.ports = ports;
  }

  static Optional<DeployedService> byImage(String image) {
    for (DeployedService s : values()) {
      if (s.image.equals(image)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  /** A long-running service started through ServiceMain, with probes; the job is not. */
  boolean isServer() {
    return this != TOPIC_INIT;
  }

  /**
   * Every setting the process reads: the class's {@code definition()}, plus the runtime settings
   * ServiceMain adds to it for every service.
   */
  ConfigDef definition() {
    ConfigDef def;
    try {
      Method m = Class.forName(definitionClass).getMethod("definition");
      def = (ConfigDef) m.invoke(null);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(image + ": cannot call " + definitionClass + ".definition(): " + e, e);
    }
    return isServer() ? def.include(RuntimeSettings.definition()) : def;
  }

  Setting<?> setting(String env) {
    return definition().settings().stream().filter(s -> s.env().equals(env)).findFirst()
        .orElseThrow(() -> new AssertionError(image + " defines no " + env));
  }

  /** Port name -> port number the process listens on under {@code config}; disabled ports left out. */
  Map<String, Integer> expectedPorts(Config config) {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> p : new java.util.TreeMap<>(ports).entrySet()) {
      int port = ((Number) config.get(setting(p.getValue()))).intValue();
      if (port >= 0) {
        out.put(p.getKey(), port);
      }
    }
    return out;
  }

  int opsPort(Config config) {
    return ((Number) config.get(setting("OPS_PORT"))).intValue();
  }
}
