package io.visualsearch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
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
  void noConsumerAsksTheBrokerToCreateATopicWithItsDefaults() {
    Config config = KafkaSettings.definition().parse(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"));
    assertEquals("false", new KafkaClients(config).consumerProperties("g", "c", 10).get("allow.auto.create.topics"));
    // search-api, response-consumer and the health board build their consumers from these.
    assertEquals("false", KafkaSettings.common(config).get("allow.auto.create.topics"));
  }

  /** A killed member holds its whole group's intake until its session expires: 10 s, unless the operator says. */
  @Test
  void aConsumersSessionIsTenSecondsUnlessTheOperatorSetsIt() {
    Config plain = KafkaSettings.definition().parse(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"));
    assertEquals("10000", new KafkaClients(plain).consumerProperties("g", "c", 10).get("session.timeout.ms"));
    Config operator = KafkaSettings.definition().parse(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092",
        "KAFKA_CLIENT_PROPERTIES", "session.timeout.ms=45000"));
    assertEquals("45000", new KafkaClients(operator).consumerProperties("g", "c", 10).get("session.timeout.ms"));
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
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", "KAFKA_CLIENT_PROPERTIES", "oops," + jaas)));
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

  static Config withClientProperties(String properties) {
    return KafkaSettings.definition().parse(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092",
        "KAFKA_CLIENT_PROPERTIES", properties));
  }

  @Test
  void operatorPropertiesThatWouldWeakenTheAcknowledgedWritesAreAConfigErrorNamingThem() {
    String jaas = "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required"
        + " username=\"svc\" password=\"S3CR3T\";";
    for (String weakening : new String[] {"acks=1", "acks=0", "enable.idempotence=false",
        "linger.ms=20,acks=1,enable.idempotence=false," + jaas}) {
      Config config = withClientProperties(weakening);
      ConfigException e = assertThrows(ConfigException.class, () -> new KafkaClients(config), weakening);
      assertTrue(e.getMessage().contains("KAFKA_CLIENT_PROPERTIES"), e.getMessage());
      for (String property : weakening.split(",")) {
        if (property.startsWith("acks") || property.startsWith("enable.idempotence")) {
          assertTrue(e.getMessage().contains(property), "names " + property + ": " + e.getMessage());
        }
      }
      assertFalse(e.getMessage().contains("S3CR3T"), e.getMessage());
    }
    for (String keeping : new String[] {"acks=all", "acks=-1", "acks=ALL", "enable.idempotence=true"}) {
      Properties p = new KafkaClients(withClientProperties(keeping)).producerProperties("svc-1", Map.of());
      assertTrue(Set.of("all", "-1", "ALL").contains(p.getProperty("acks")), keeping);
      assertEquals("true", p.get("enable.idempotence"), keeping);
    }
  }

  @Test
  void groupPropertiesTheLoopsRebalanceHandlingCannotHonourAreAConfigErrorNamingThem() {
    for (String unsafe : new String[] {
        "partition.assignment.strategy=org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
        "group.protocol=consumer", "group.instance.id=catalog-downloader-0"}) {
      ConfigException e = assertThrows(ConfigException.class, () -> new KafkaClients(withClientProperties(unsafe)),
          unsafe);
      assertTrue(e.getMessage().contains(unsafe + " is refused"), e.getMessage());
    }
    Properties p = new KafkaClients(withClientProperties("group.protocol=classic")).consumerProperties("g", "c", 10);
    assertEquals("classic", p.getProperty("group.protocol"), "the default, spelled out, is kept");
  }

  @Test
  void aPropertyWhoseValueIsACommaListKeepsItWhole() {
    Properties p = new KafkaClients(withClientProperties(
        "ssl.enabled.protocols=TLSv1.2,TLSv1.3,security.protocol=SSL,ssl.cipher.suites=TLS_AES_128_GCM_SHA256,"
            + " TLS_AES_256_GCM_SHA384")).producerProperties("svc-1", Map.of());
    assertEquals("TLSv1.2,TLSv1.3", p.get("ssl.enabled.protocols"));
    assertEquals("SSL", p.get("security.protocol"));
    assertEquals("TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384", p.get("ssl.cipher.suites"), "as typed");
    assertFalse(p.containsKey("TLSv1.3"));

    ConfigException e = assertThrows(ConfigException.class, () -> withClientProperties("TLSv1.3,acks=all"),
        "a list must begin with a property");
    assertTrue(e.getMessage().contains("KAFKA_CLIENT_PROPERTIES"), e.getMessage());
  }

  @Test
  void aValueHoldingCommasAndSpacesReachesTheClientExactlyAsTyped() {
    String jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required"
        + " username=\"svc\" password=\"ab, cd\";";
    Properties p = new KafkaClients(withClientProperties(
        "security.protocol=SASL_SSL, sasl.jaas.config=" + jaas + " ,sasl.mechanism=PLAIN"))
        .producerProperties("svc-1", Map.of());
    assertEquals(jaas, p.get("sasl.jaas.config"), "a changed password fails only at the broker");
    assertEquals("SASL_SSL", p.get("security.protocol"));
    assertEquals("PLAIN", p.get("sasl.mechanism"));
  }

  @Test
  void doubledCommasInsideAValueAreKept() {
    Properties doubled = new KafkaClients(withClientProperties(
        "sasl.jaas.config=x required password=\"a,,b\";,linger.ms=7")).producerProperties("svc-1", Map.of());
    assertEquals("x required password=\"a,,b\";", doubled.get("sasl.jaas.config"),
        "only a comma before key= ends a value");
    assertEquals("7", doubled.get("linger.ms"));
  }
}
