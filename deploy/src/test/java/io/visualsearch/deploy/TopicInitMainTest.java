package io.visualsearch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicInitMainTest {

  @Test
  void missingBootstrapServersIsAConfigurationError() {
    assertEquals(2, TopicInitMain.run(Map.of(), System.out, System.err));
  }

  @Test
  void invalidLayoutIsAConfigurationError() {
    assertEquals(2, TopicInitMain.run(Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", "TOPICS_PARTITIONS", "0"), System.out, System.err));
  }

  /** Not 3, the JVM's exit on an OutOfMemoryError in the images: a Job's operator must tell the two apart. */
  @Test
  void kafkaThatCannotBeReachedIsAStartFailureNotTheOutOfMemoryExit() {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    assertEquals(6, TopicInitMain.run(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + port,
        "KAFKA_CLIENT_PROPERTIES", "request.timeout.ms=1000,default.api.timeout.ms=2000"), System.out, System.err));
  }
}
