package io.visualsearch.embeddings;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import java.time.Duration;

/** Settings of the embeddings-generator itself. */
public final class EmbeddingsSettings {

  public static final Setting<Integer> CONCURRENCY = Setting.integer("EMBEDDINGS_CONCURRENCY").defaultValue(48)
      .validate(n -> n >= 1 && n <= 256, "between 1 and 256")
      // 16 left the model server ~3.5 images a run while the rest waited on the object store;
      // 48 fills runs of ~11 (bench model, embeddings-generator/RATIONALE.md).
      .doc("Images embedded at once; the model server merges concurrent calls into batches.");
  public static final Setting<Duration> MODEL_POLL = Setting.duration("EMBEDDINGS_MODEL_POLL_INTERVAL")
      .defaultValue(Duration.ofSeconds(5)).validate(d -> d.toMillis() >= 100, "at least 100ms")
      .doc("How often the served model version is checked; a new version starts a re-embedding of the catalog.");
  public static final Setting<Integer> CACHE_ENTRIES = Setting.integer("EMBEDDINGS_CACHE_ENTRIES").defaultValue(50_000)
      .validate(n -> n >= 0, "non-negative")
      .doc("Vectors kept in memory in front of the object-store cache (per image hash and model version).");

  private EmbeddingsSettings() {}

  public static ConfigDef definition() {
    return new ConfigDef().define(CONCURRENCY, MODEL_POLL, CACHE_ENTRIES);
  }
}
