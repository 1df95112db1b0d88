package io.visualsearch.pipeline;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.Properties;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Kafka clients configured for at-least-once processing with acknowledged writes. */
public final class KafkaClients {

  /**
   * The producer properties the consumer loop's promise rests on (a record is committed only once
   * what it produced is on every in-sync replica, written once), with the values that keep it.
   * The operator's properties override the producer's own, so any other value is refused at start:
   * {@code acks=1} beside {@code enable.idempotence=false} weakened every write without a word.
   */
  private static final Map<String, Set<String>> ACKNOWLEDGED_WRITES = Map.of(
      ProducerConfig.ACKS_CONFIG, Set.of("all", "-1"),
      ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Set.of("true"));

  /**
   * Consumer group properties the consumer loop's rebalance handling rests on: it commits and
   * rewinds around eager rebalances of the classic protocol (everything revoked before anything is
   * assigned), which a cooperative assignor or the consumer protocol changes, leaving commits
   * refused mid-rebalance and behind for hours on a quiet partition; and every loop and replica
   * shares one environment, so one static member id would fence all members but one, over and over.
   */
  private static final Map<String, String> GROUP_PROTOCOL = Map.of(
      ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, "the consumer loop relies on eager rebalances of the"
          + " default range assignor",
      ConsumerConfig.GROUP_PROTOCOL_CONFIG, "the consumer loop relies on the classic group protocol's eager"
          + " rebalances",
      ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "every consumer of every replica would share the one static"
          + " member id and fence the others");

  /** A consumer's session timeout unless KAFKA_CLIENT_PROPERTIES sets one: Kafka's default before 3.0. */
  static final int SESSION_TIMEOUT_MS = 10_000;

  private final Config config;

  /** @throws ConfigException when KAFKA_CLIENT_PROPERTIES weakens the acknowledged writes or the group protocol */
  public KafkaClients(Config config) {
    refuseUnsafeProperties(config);
    this.config = config;
  }

  private static void refuseUnsafeProperties(Config config) {
    List<String> problems = new ArrayList<>();
    KafkaSettings.clientProperties(config).forEach((key, value) -> {
      Set<String> kept = ACKNOWLEDGED_WRITES.get(key);
      if (kept != null && !kept.contains(value.toLowerCase(Locale.ROOT))) {
        problems.add(KafkaSettings.EXTRA.env() + ": " + key + "=" + value + " is refused: producers set acks=all and"
            + " enable.idempotence=true themselves, so that a record is committed only once what it produced is"
            + " safely written; remove it");
      }
      String why = GROUP_PROTOCOL.get(key);
      if (why != null && !(key.equals(ConsumerConfig.GROUP_PROTOCOL_CONFIG) && value.equalsIgnoreCase("classic"))) {
        problems.add(KafkaSettings.EXTRA.env() + ": " + key + "=" + value + " is refused: " + why + "; remove it");
      }
    });
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }

  public Producer<byte[], byte[]> producer(String clientId) {
    return producer(clientId, Map.of());
  }

  /** A producer whose service sets some defaults of its own; the operator's properties still win. */
  public Producer<byte[], byte[]> producer(String clientId, Map<String, String> serviceDefaults) {
    return new KafkaProducer<>(producerProperties(clientId, serviceDefaults), new ByteArraySerializer(),
        new ByteArraySerializer());
  }

  Properties producerProperties(String clientId, Map<String, String> serviceDefaults) {
    Properties p = KafkaSettings.common(config);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    // A broker outage should stall the pipeline, not drop records: keep retrying for two minutes.
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
    p.putAll(serviceDefaults);
    // The operator's KAFKA_CLIENT_PROPERTIES win over these defaults (e.g. a longer linger.ms).
    p.putAll(KafkaSettings.common(config));
    return p;
  }

  public Consumer<byte[], byte[]> consumer(String groupId, String clientId) {
    return consumer(groupId, clientId, config.get(KafkaSettings.MAX_POLL_RECORDS));
  }

  /** As {@link #consumer(String, String)}, handed at most {@code maxPollRecords} records a poll. */
  public Consumer<byte[], byte[]> consumer(String groupId, String clientId, int maxPollRecords) {
    return new KafkaConsumer<>(consumerProperties(groupId, clientId, maxPollRecords), new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  Properties consumerProperties(String groupId, String clientId, int maxPollRecords) {
    Properties p = KafkaSettings.common(config);
    // An eager rebalance stops the whole group until a killed member's session expires: Kafka's
    // 45 s held every replica of a stage that long after one crashed (RATIONALE.md).
    p.putIfAbsent(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Integer.toString(SESSION_TIMEOUT_MS));
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return p;
  }

  public String groupId(String service) {
    String g = config.get(KafkaSettings.GROUP_ID);
    return g == null ? service : g;
  }
}
