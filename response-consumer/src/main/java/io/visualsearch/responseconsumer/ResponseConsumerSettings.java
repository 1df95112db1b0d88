package io.visualsearch.responseconsumer;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;

/** What an operator can set on response-consumer beyond Kafka, tracing and the object store. */
public final class ResponseConsumerSettings {

  public static final Setting<Integer> SIMILAR_K = Setting.integer("SIMILAR_ITEMS_K").defaultValue(20)
      .validate(k -> k >= 1 && k <= 100, "between 1 and 100")
      .doc("Similar items precomputed per product after each index publication.");
  public static final Setting<Integer> SIMILAR_BATCH = Setting.integer("SIMILAR_ITEMS_BATCH").defaultValue(512)
      .validate(n -> n >= 1 && n <= 65536, "between 1 and 65536")
      .doc("Products searched per FAISS call while precomputing.");

  private ResponseConsumerSettings() {}

  public static ConfigDef definition() {
    return new ConfigDef().define(SIMILAR_K, SIMILAR_BATCH);
  }
}
