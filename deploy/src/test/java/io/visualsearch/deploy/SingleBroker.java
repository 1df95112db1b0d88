package io.visualsearch.deploy;

import io.visualsearch.stack.EmbeddedKafka;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;

/** A broker of its own for a test that changes topics the shared stack's other tests rely on. */
final class SingleBroker {

  private SingleBroker() {}

  /** A started KRaft broker on free loopback ports, its log under {@code dir}; close it after the test. */
  static EmbeddedKafka start(Path dir) throws Exception {
    EmbeddedKafka kafka = new EmbeddedKafka("127.0.0.1", freePort(), freePort(), dir.resolve("kafka"));
    kafka.start();
    return kafka;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
