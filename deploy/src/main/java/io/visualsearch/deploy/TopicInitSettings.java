package io.visualsearch.deploy;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import io.visualsearch.pipeline.KafkaSettings;

/** What the topic-init job reads: how to reach Kafka, and how topics it creates are laid out. */
public final class TopicInitSettings {

  public static final Setting<Integer> PARTITIONS = Setting.integer("TOPICS_PARTITIONS").defaultValue(6)
      .validate(n -> n >= 1, "positive")
      .doc("Partitions of each topic it creates; the most instances of one consumer group that can share its work.");
  public static final Setting<Integer> REPLICATION_FACTOR = Setting.integer("TOPICS_REPLICATION_FACTOR").defaultValue(3)
      .validate(n -> n >= 1 && n <= Short.MAX_VALUE, "between 1 and 32767")
      .doc("Replication factor of each topic it creates; 1 for a single broker.");

  private TopicInitSettings() {}

  /** Kafka's connection settings (bootstrap servers, extra client properties) plus the layout. */
  public static ConfigDef definition() {
    return new ConfigDef().define(KafkaSettings.BOOTSTRAP, KafkaSettings.EXTRA, PARTITIONS, REPLICATION_FACTOR);
  }
}
