package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortAllocatorTest {

  @Test
  void baseGivesConsecutivePorts() {
    PortAllocator p = new PortAllocator("127.0.0.1", 19000);
    assertEquals(19000, p.next());
    assertEquals(19001, p.next());
  }

  @Test
  void freePortsAreDistinctAndBelowTheEphemeralRange() {
    PortAllocator p = new PortAllocator("127.0.0.1", 0);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      int port = p.next();
      assertTrue(seen.add(port), "port handed out twice: " + port);
      assertTrue(port >= PortAllocator.FREE_LOW && port < PortAllocator.ephemeralLow(),
          "port " + port + " must lie outside the ephemeral range");
    }
  }
}
