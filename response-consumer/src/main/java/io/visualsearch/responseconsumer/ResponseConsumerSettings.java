package io.visualsearch.responseconsumer;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import io.visualsearch.runtime.ScratchDirectory;
import java.nio.file.Path;

/** What an operator can set on response-consumer beyond Kafka, tracing and the object store. */
public final class ResponseConsumerSettings {

  public static final Setting<Integer> SIMILAR_K = Setting.integer("SIMILAR_ITEMS_K").defaultValue(20)
      .validate(k -> k >= 1 && k <= 100, "between 1 and 100")
      .doc("Similar items precomputed per product after each index publication.");
  public static final Setting<Integer> SIMILAR_BATCH = Setting.integer("SIMILAR_ITEMS_BATCH").defaultValue(512)
      .validate(n -> n >= 1 && n <= 65536, "between 1 and 65536")
      .doc("Products searched per FAISS call while precomputing.");
  public static final Setting<Long> SIMILAR_NATIVE_MEMORY = Setting.longInt("SIMILAR_ITEMS_NATIVE_MEMORY_BYTES")
      .defaultValue(0L).validate(n -> n >= 0, "0 (derived) or more")
      .doc("Memory outside the heap a publication's similar-items run may give FAISS for the index's shards; a"
          + " version whose shards need more is dead-lettered catalog-exceeds-native-memory before any is read. 0:"
          + " the container's memory less the maximum heap and ~256 MiB the JVM takes itself (unchecked, with a"
          + " warning, when that leaves nothing).");
  public static final Setting<Integer> ARCHIVE_CONCURRENCY = Setting.integer("RESPONSE_ARCHIVE_CONCURRENCY")
      .defaultValue(8).validate(n -> n >= 1 && n <= 256, "between 1 and 256")
      .doc("Answered searches written to the object store at once, each a PUT that mostly waits on the store.");
  public static final Setting<String> INDEX_DIR = Setting.string("SIMILAR_ITEMS_INDEX_DIR")
      .defaultValue(Path.of(System.getProperty("java.io.tmpdir"), "response-consumer-index").toString())
      .describeDefault("response-consumer-index in the JVM's temporary directory")
      .validate(ScratchDirectory::isDirectoryPath, "a directory path")
      .doc("Local directory a published version's shards (and a quantised shard's exact vectors) are downloaded to"
          + " and read by FAISS from, never through the heap; each file is unlinked once open, so its space returns"
          + " when the run ends. Needs room for the largest tenant's version.");

  private ResponseConsumerSettings() {}

  public static ConfigDef definition() {
    return new ConfigDef().define(SIMILAR_K, SIMILAR_BATCH, SIMILAR_NATIVE_MEMORY, ARCHIVE_CONCURRENCY, INDEX_DIR);
  }
}
