package io.visualsearch.stack;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;

/** Where the embedded stack listens and keeps its data. Port 0 picks a free port. */
public final class StackSettings {

  public static final Setting<String> HOST = Setting.string("STACK_HOST").defaultValue("127.0.0.1")
      .validate(h -> h.startsWith("127.") || h.equals("localhost"), "a loopback address")
      .doc("Address every embedded server binds to; loopback only, this is not a production stack.");
  public static final Setting<Integer> KAFKA_PORT = Setting.integer("STACK_KAFKA_PORT").defaultValue(9092)
      .validate(Setting.port(), "a TCP port").doc("Kafka broker port.");
  public static final Setting<Integer> KAFKA_CONTROLLER_PORT = Setting.integer("STACK_KAFKA_CONTROLLER_PORT")
      .defaultValue(9093).validate(Setting.port(), "a TCP port").doc("KRaft controller port.");
  public static final Setting<Integer> S3_PORT = Setting.integer("STACK_S3_PORT").defaultValue(9000)
      .validate(Setting.port(), "a TCP port").doc("S3-compatible server port.");
  public static final Setting<Integer> ZIPKIN_PORT = Setting.integer("STACK_ZIPKIN_PORT").defaultValue(9411)
      .validate(Setting.port(), "a TCP port").doc("Zipkin port.");
  public static final Setting<String> DATA_DIR = Setting.string("STACK_DATA_DIR").defaultValue("data/stack")
      .doc("Directory holding Kafka logs, object-store files and server logs. The demo deletes it at every start"
          + " (unless --keep-data), so it must be the stack's own: one the stack created (it holds"
          + " .visual-search-stack), an empty one, or none yet; the demo refuses any other.");
  public static final Setting<String> BUCKET = Setting.string("STACK_BUCKET").defaultValue("visual-search")
      .doc("Bucket created in the S3-compatible server.");
  public static final Setting<Integer> PARTITIONS = Setting.integer("STACK_TOPIC_PARTITIONS").defaultValue(3)
      .validate(p -> p > 0, "positive").doc("Partitions of each pipeline topic.");

  private StackSettings() {}

  public static ConfigDef definition() {
    return new ConfigDef().define(HOST, KAFKA_PORT, KAFKA_CONTROLLER_PORT, S3_PORT, ZIPKIN_PORT, DATA_DIR,
        BUCKET, PARTITIONS);
  }
}
