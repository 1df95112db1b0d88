package io.visualsearch.pipeline;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/** How a service reaches Kafka and how its consumer loop behaves. */
public final class KafkaSettings {

  public static final Setting<String> BOOTSTRAP = Setting.string("KAFKA_BOOTSTRAP_SERVERS")
      .doc("Kafka bootstrap servers, host:port[,host:port].");
  public static final Setting<String> GROUP_ID = Setting.string("KAFKA_GROUP_ID").optional()
      .doc("Consumer group; defaults to the service name. Instances of one service share it.");
  public static final Setting<Integer> MAX_POLL_RECORDS = Setting.integer("KAFKA_MAX_POLL_RECORDS").defaultValue(100)
      .validate(n -> n > 0, "positive").doc("Records handled per poll (and per commit).");
  public static final Setting<Duration> RETRY_BACKOFF = Setting.duration("KAFKA_RETRY_BACKOFF")
      .defaultValue(Duration.ofMillis(500)).validate(KafkaSettings::positive, "positive")
      .doc("First pause after a retriable failure; doubles per attempt, each pause drawn between half and all of"
          + " it so that replicas failing together do not resume together.");
  public static final Setting<Duration> RETRY_BACKOFF_MAX = Setting.duration("KAFKA_RETRY_BACKOFF_MAX")
      .defaultValue(Duration.ofSeconds(30)).validate(KafkaSettings::positive, "positive")
      .doc("Longest pause between attempts of the same record.");
  public static final Setting<Duration> HEARTBEAT_INTERVAL = Setting.duration("HEALTH_HEARTBEAT_INTERVAL")
      .defaultValue(Duration.ofSeconds(5)).validate(KafkaSettings::positive, "positive")
      .doc("How often the service publishes its heartbeat to service.health.");
  public static final Setting<Duration> MAX_BATCH_TIME = Setting.duration("KAFKA_MAX_BATCH_TIME")
      .defaultValue(Duration.ofMinutes(30)).validate(KafkaSettings::positive, "positive")
      .doc("How long one poll's records may take to handle without progress before the service reports itself"
          + " not ready (a handler stuck on a call without a deadline), and twice that before /healthz fails so the"
          + " orchestrator restarts it; a long handler that reports progress (a similar-items job, after each chunk"
          + " of files) is bounded between two reports, not in all.");
  /** Secret: it carries a managed cluster's credentials (sasl.jaas.config=... password="..."). */
  public static final Setting<List<String>> EXTRA = Setting.list("KAFKA_CLIENT_PROPERTIES", ClientProperties.SEPARATOR)
      .defaultValue(List.of())
      .validate(ClientProperties::wellFormed, "a comma list of key=value").secret()
      .describeDefault("(empty)")
      .doc("Extra Kafka client properties (security.protocol=SASL_SSL, sasl.mechanism=..., ...) for managed clusters;"
          + " they also override the producer's defaults (linger.ms=5, compression.type=lz4, ...; search-api"
          + " sends its answers with linger.ms=0, max.block.ms=250).");

  private KafkaSettings() {}

  private static boolean positive(Duration d) {
    return !d.isNegative() && !d.isZero();
  }

  public static ConfigDef definition() {
    return new ConfigDef().define(BOOTSTRAP, GROUP_ID, MAX_POLL_RECORDS, RETRY_BACKOFF, RETRY_BACKOFF_MAX,
        MAX_BATCH_TIME, HEARTBEAT_INTERVAL, EXTRA);
  }

  /**
   * Client properties shared by consumers, producers and admin clients. Every consumer a service
   * builds starts from these, so none asks a broker with {@code auto.create.topics.enable=true} to
   * create a topic it subscribes to before topic-init made it: such a topic gets the broker's
   * defaults (one partition, delete after 7 days), which topic-init can repair only in part.
   * Producers and admin clients ignore the key (an INFO line at most). The operator may override it.
   */
  public static Properties common(Config config) {
    Properties p = new Properties();
    p.put("bootstrap.servers", config.get(BOOTSTRAP));
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    p.putAll(clientProperties(config));
    return p;
  }

  /** The operator's {@link #EXTRA}, a value holding commas kept whole; for every Kafka client a service makes. */
  public static Map<String, String> clientProperties(Config config) {
    return ClientProperties.parse(config.get(EXTRA));
  }
}
