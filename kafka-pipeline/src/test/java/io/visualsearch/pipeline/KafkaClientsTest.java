package io.visualsearch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
