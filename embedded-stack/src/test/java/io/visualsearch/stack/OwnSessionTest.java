package io.visualsearch.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class OwnSessionTest {

  /** Process group and session of {@code pid}, from /proc/<pid>/stat (fields 5 and 6). */
  private static long[] groupAndSession(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return new long[] {Long.parseLong(after[2]), Long.parseLong(after[3])};
  }

  @Test
  void aChildLeadsASessionOfItsOwnOutOfTheTerminalsProcessGroup() throws Exception {
    // Ctrl-C signals the terminal's foreground process group: a child in it exited at once, while
    // the services using it were still draining.
    Process child = new ProcessBuilder(OwnSession.of(List.of("sleep", "30"))).start();
    try {
      long[] mine = groupAndSession(ProcessHandle.current().pid());
      long[] its = {0, 0};
      for (int i = 0; i < 50 && its[1] != child.pid(); i++) {
        Thread.sleep(20); // until setsid has exec'd the command
        its = groupAndSession(child.pid());
      }
      assertEquals(child.pid(), its[1], "the same process, leading its own session");
      assertNotEquals(mine[0], its[0], "not in the launcher's process group");
    } finally {
      child.destroyForcibly().waitFor();
    }
  }
}
