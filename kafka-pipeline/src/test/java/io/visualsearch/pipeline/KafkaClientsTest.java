package io.visualsearch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class KafkaClientsTest {

  @Test
  void producersAcknowledgeEveryWriteAndOperatorPropertiesOverrideTheDefaults() {
    Properties defaults = new KafkaClients(KafkaSettings.definition()
        .parse(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))).producerProperties("svc-1", Map.of());
    assertEquals("all", defaults.get("acks"));
    assertEquals("true", defaults.get("enable.idempotence"));
    assertEquals("5", defaults.get("linger.ms"));
    assertEquals("svc-1", defaults.get("client.id"));

    Properties tuned = new KafkaClients(KafkaSettings.definition().parse(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092",
        "KAFKA_CLIENT_PROPERTIES", "linger.ms=100,security.protocol=SSL"))).producerProperties("svc-1", Map.of());
    assertEquals("100", tuned.get("linger.ms"), "the operator's value wins");
    assertEquals("SSL", tuned.get("security.protocol"));
    assertEquals("all", tuned.get("acks"), "defaults not named by the operator stay");
  }

  @Test
  void aServicesOwnDefaultsReplaceTheLibrarysButNotTheOperators() {
    Properties latencyFirst = new KafkaClients(KafkaSettings.definition()
        .parse(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")))
        .producerProperties("search-api-1", Map.of("linger.ms", "0"));
    assertEquals("0", latencyFirst.get("linger.ms"));
    assertEquals("all", latencyFirst.get("acks"));

    Properties operator = new KafkaClients(KafkaSettings.definition().parse(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", "KAFKA_CLIENT_PROPERTIES", "linger.ms=20")))
        .producerProperties("search-api-1", Map.of("linger.ms", "0"));
    assertEquals("20", operator.get("linger.ms"), "the operator's value wins over the service's");
  }

  @Test
  void aClusterPasswordInTheClientPropertiesNeverReachesALogOrAnError() {
    String jaas = "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required"
        + " username=\"svc\" password=\"S3CR3T\";";
    Config config = KafkaSettings.definition().parse(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092",
        "KAFKA_CLIENT_PROPERTIES", "security.protocol=SASL_SSL," + jaas));
    assertFalse(config.toString().contains("S3CR3T"), config.toString());
    assertTrue(new KafkaClients(config).producerProperties("svc-1", Map.of()).getProperty("sasl.jaas.config")
        .contains("S3CR3T"), "the client still gets it");
    ConfigException e = assertThrows(ConfigException.class, () -> KafkaSettings.definition().parse(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", "KAFKA_CLIENT_PROPERTIES", jaas + ",oops")));
    assertFalse(e.getMessage().contains("S3CR3T"), e.getMessage());
  }

  @Test
  void backOffsAndTheHeartbeatMustBePositive() {
    for (String name : new String[] {"KAFKA_RETRY_BACKOFF", "KAFKA_RETRY_BACKOFF_MAX", "HEALTH_HEARTBEAT_INTERVAL"}) {
      ConfigException e = assertThrows(ConfigException.class, () -> KafkaSettings.definition().parse(Map.of(
          "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", name, "0s")));
      assertTrue(e.getMessage().contains(name), e.getMessage());
    }
  }
}
