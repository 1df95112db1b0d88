package io.visualsearch.deploy;

import io.visualsearch.stack.EmbeddedKafka;
import io.visualsearch.stack.PortAllocator;
import java.nio.file.Path;

/** A broker of its own for a test that changes topics the shared stack's other tests rely on. */
final class SingleBroker {

  private SingleBroker() {}

  /**
   * A started KRaft broker on free loopback ports, its log under {@code dir}; close it after the test.
   * The ports come from {@link PortAllocator}, below the ephemeral range: a port from
   * {@code new ServerSocket(0)} could become the local port of one of the shared stack's client
   * connections before the broker binds it.
   */
  static EmbeddedKafka start(Path dir) throws Exception {
    PortAllocator ports = new PortAllocator("127.0.0.1", 0);
    EmbeddedKafka kafka = new EmbeddedKafka("127.0.0.1", ports.next(), ports.next(), dir.resolve("kafka"));
    kafka.start();
    return kafka;
  }
}
