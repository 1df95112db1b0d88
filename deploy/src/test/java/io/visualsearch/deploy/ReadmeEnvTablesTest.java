package io.visualsearch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.visualsearch.catalogdownloader.CatalogDownloaderSettings;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.embeddings.EmbeddingsSettings;
import io.visualsearch.healthboard.HealthSettings;
import io.visualsearch.imageindexer.ImageIndexerSettings;
import io.visualsearch.imagevalidation.NormalisationSettings;
import io.visualsearch.indexbuilder.IndexBuilderSettings;
import io.visualsearch.modelclient.ModelClientSettings;
import io.visualsearch.modelserver.ModelServerService;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.responseconsumer.ResponseConsumerSettings;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.searchapi.SearchApiSettings;
import io.visualsearch.stack.StackSettings;
import io.visualsearch.tracing.TracingSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every module that defines settings documents each of them in its README exactly as its
 * {@link ConfigDef} says (name, type, default, doc, validation): the env-var tables are
 * generated from the definitions, and this keeps them from drifting when a setting changes.
 */
class ReadmeEnvTablesTest {

  static final Path ROOT = Path.of("..");

  static List<Map.Entry<String, ConfigDef>> modules() {
    return List.of(
        Map.entry("catalog-downloader", CatalogDownloaderSettings.definition()),
        Map.entry("deploy", TopicInitSettings.definition()),
        Map.entry("embedded-stack", StackSettings.definition()),
        Map.entry("embeddings-generator", EmbeddingsSettings.definition()),
        Map.entry("health-board", HealthSettings.definition()),
        Map.entry("image-indexer", ImageIndexerSettings.definition()),
        Map.entry("image-validation", NormalisationSettings.definition()),
        Map.entry("index-builder", IndexBuilderSettings.definition()),
        Map.entry("kafka-pipeline", KafkaSettings.definition()),
        Map.entry("model-client", ModelClientSettings.definition()),
        // With the heartbeat's and tracing's settings: the server reads them itself (it is not a pipeline service).
        Map.entry("model-server", ModelServerService.definition()),
        Map.entry("object-store", ObjectStoreSettings.definition()),
        Map.entry("response-consumer", ResponseConsumerSettings.definition()),
        Map.entry("search-api", SearchApiSettings.definition()),
        Map.entry("service-runtime", RuntimeSettings.definition()),
        Map.entry("tracing", TracingSettings.definition()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modules")
  void readmeHoldsEveryRowOfTheGeneratedTable(Map.Entry<String, ConfigDef> module) throws IOException {
    Path readme = ROOT.resolve(module.getKey()).resolve("README.md");
    List<String> documented = Files.exists(readme) ? Files.readAllLines(readme) : List.of();
    String table = module.getValue().markdownTable();
    List<String> missing = table.lines().skip(2).filter(row -> !documented.contains(row)).toList();
    assertEquals(List.of(), missing, () -> readme + " is missing or has stale rows; the generated table is:\n" + table
        + missing.stream().collect(Collectors.joining("\n", "\nrows not found verbatim:\n", "")));
  }

  /**
   * A service's README repeats the rows of the libraries it uses (its whole environment in one
   * table): each copy must be the owning definition's row, or an operator reads an old default,
   * range or meaning there while the library's own README is right.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("modules")
  void copiedRowsOfOtherModulesSettingsAreCurrent(Map.Entry<String, ConfigDef> module) throws IOException {
    // A name may have more than one definition (the model server's KAFKA_BOOTSTRAP_SERVERS is optional).
    Map<String, java.util.Set<String>> generated = new java.util.HashMap<>();
    for (Map.Entry<String, ConfigDef> m : modules()) {
      m.getValue().markdownTable().lines().skip(2)
          .forEach(row -> generated.computeIfAbsent(settingOf(row), k -> new java.util.TreeSet<>()).add(row));
    }
    Path readme = ROOT.resolve(module.getKey()).resolve("README.md");
    List<String> stale = (Files.exists(readme) ? Files.readAllLines(readme) : List.<String>of()).stream()
        .filter(line -> generated.containsKey(settingOf(line)) && !generated.get(settingOf(line)).contains(line))
        .toList();
    assertEquals(List.of(), stale, () -> readme + " has rows that differ from their settings' definitions; they are:\n"
        + stale.stream().flatMap(row -> generated.get(settingOf(row)).stream()).collect(Collectors.joining("\n")));
  }

  /** The setting a table row documents ({@code | `NAME` | ...}), or "" for any other line. */
  static String settingOf(String line) {
    if (!line.startsWith("| `")) {
      return "";
    }
    int end = line.indexOf('`', 3);
    return end < 0 ? "" : line.substring(3, end);
  }
}
