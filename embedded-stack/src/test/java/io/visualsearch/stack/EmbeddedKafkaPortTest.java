package io.visualsearch.stack;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaPortTest {

  @Test
  void aTakenBrokerPortIsNamedWithTheVariableThatMovesIt() throws Exception {
    // It ended the demo with "Socket server failed to bind" from deep in Kafka's start.
    Path dir = Files.createTempDirectory("kafka-port-");
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      EmbeddedKafka kafka = new EmbeddedKafka("127.0.0.1", taken.getLocalPort(), 0, dir.resolve("log"));
      IOException e = assertThrows(IOException.class, kafka::start);
      assertTrue(e.getMessage().contains("STACK_KAFKA_PORT") && e.getMessage().contains("already in use"),
          e.getMessage());
      assertTrue(!Files.exists(dir.resolve("log")), "refused before anything is written");
    } finally {
      try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }
}
