package io.visualsearch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicInitMainTest {

  @Test
  void missingBootstrapServersIsAConfigurationError() {
    assertEquals(2, TopicInitMain.run(Map.of()));
  }

  @Test
  void invalidLayoutIsAConfigurationError() {
    assertEquals(2, TopicInitMain.run(Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", "TOPICS_PARTITIONS", "0")));
  }
}
