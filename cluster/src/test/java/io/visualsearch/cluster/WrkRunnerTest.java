package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench's wrk run is bounded: a load tool that hangs must not hang the bench with it. */
class WrkRunnerTest {

  @TempDir Path dir;

  @Test
  void aRunThatDoesNotEndIsKilledAtItsTimeoutWithWhatItPrinted() throws Exception {
    Path pidFile = dir.resolve("pid");
    List<String> hangs = List.of("sh", "-c", "echo $$ > " + pidFile + "; echo 'Running 1m test'; exec sleep 600");

    // A hang is what is tested: the bound is ten minutes below the process's own end, not a speed.
    IOException e = assertTimeoutPreemptively(Duration.ofMinutes(2),
        () -> assertThrows(IOException.class, () -> WrkRunner.runBounded(hangs, dir.resolve("out"), Duration.ofSeconds(1))));

    assertTrue(e.getMessage().contains("did not finish") && e.getMessage().contains("Running 1m test"), e.getMessage());
    long pid = Long.parseLong(Files.readString(pidFile).trim());
    assertTrue(ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true), "the hung process was killed");
  }

  @Test
  void aRunThatEndsReturnsItsOutputAndAFailingOneThrows() throws Exception {
    assertEquals("Requests/sec: 12.5\n",
        WrkRunner.runBounded(List.of("sh", "-c", "echo 'Requests/sec: 12.5'"), dir.resolve("out"), Duration.ofMinutes(1)));
    IOException e = assertThrows(IOException.class,
        () -> WrkRunner.runBounded(List.of("sh", "-c", "echo 'unable to connect' >&2; exit 1"), dir.resolve("out"),
            Duration.ofMinutes(1)));
    assertTrue(e.getMessage().contains("exit 1") && e.getMessage().contains("unable to connect"), e.getMessage());
  }
}
