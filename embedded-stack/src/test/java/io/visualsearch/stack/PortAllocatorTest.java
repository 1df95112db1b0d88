package io.visualsearch.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PortAllocatorTest {

  /** Run in another JVM: prints the ports an allocator starting at {@code args[0]} gives, {@code args[1]} of them. */
  public static final class OtherJvm {
    public static void main(String[] args) {
      PortAllocator p = new PortAllocator("127.0.0.1", 0, Integer.parseInt(args[0]));
      for (int i = 0; i < Integer.parseInt(args[1]); i++) {
        System.out.println(p.next());
      }
    }
  }

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
      assertBelowEphemeralRange(port);
    }
    assertBelowEphemeralRange(PortAllocator.free("127.0.0.1"));
  }

  @Test
  void twoAllocatorsOfOneJvmNeverGiveTheSamePortThoughNeitherWasBoundYet() {
    int start = PortAllocator.free("127.0.0.1") + 1;
    PortAllocator a = new PortAllocator("127.0.0.1", 0, start);
    PortAllocator b = new PortAllocator("127.0.0.1", 0, start);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      assertTrue(seen.add(a.next()), "given twice: " + seen);
      assertTrue(seen.add(b.next()), "given twice: " + seen);
    }
  }

  @Test
  void anotherJvmIsNotGivenThePortsThisOneHolds() throws Exception {
    PortAllocator mine = new PortAllocator("127.0.0.1", 0);
    List<Integer> held = List.of(mine.next(), mine.next(), mine.next());
    // Not bound: between choosing and binding, and while a server restarts, only the reservation guards them.
    Process other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
        OtherJvm.class.getName(), Integer.toString(held.get(0)), "3").redirectErrorStream(true).start();
    String out = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(other.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, other.exitValue(), out);
    List<Integer> theirs = new ArrayList<>();
    for (String line : out.strip().split("\\s+")) {
      theirs.add(Integer.parseInt(line));
    }
    assertEquals(3, theirs.size(), out);
    for (int port : theirs) {
      assertTrue(!held.contains(port), "the other JVM was given " + port + ", which this one holds: " + held);
      assertBelowEphemeralRange(port);
    }
  }

  private static void assertBelowEphemeralRange(int port) {
    assertTrue(port >= PortAllocator.FREE_LOW && port < PortAllocator.ephemeralLow(),
        "port " + port + " must lie outside the ephemeral range");
  }
}
