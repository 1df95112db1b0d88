package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The soak's arithmetic, on wrk results given in order (wrk and a cluster are not needed for it). */
class LoadBenchSoakTest {

  @Test
  void driftIsMeasuredFromTheFirstSampleAfterAnUntimedWarmUp(@TempDir Path dir) throws Exception {
    // As the 30-minute soak of the README began: the first minute cold (JIT), then steady, then 10 % worse.
    ArrayDeque<WrkResult> runs = new ArrayDeque<>(List.of(p99(1070), p99(450), p99(495)));
    ByteArrayOutputStream said = new ByteArrayOutputStream();
    boolean clean = LoadBenchMain.soak((duration, connections) -> runs.remove(), ProcessHandle.current().pid(),
        Duration.ofMinutes(2), Duration.ofMinutes(1), 8, dir.resolve("soak.png"),
        new PrintStream(said, true, StandardCharsets.UTF_8));
    String out = said.toString(StandardCharsets.UTF_8);
    assertTrue(clean, out);
    assertTrue(runs.isEmpty(), "one warm-up run and two one-minute samples for two minutes: " + out);
    assertTrue(out.contains("soak_p99_drift=1.100"), out);
    assertTrue(out.contains("warm-up run (not sampled)"), out);
    assertTrue(Files.size(dir.resolve("soak.png")) > 0);
  }

  @Test
  void errorsOfTheWarmUpStillCount(@TempDir Path dir) throws Exception {
    ArrayDeque<WrkResult> runs = new ArrayDeque<>(List.of(new WrkResult(100, 900, 1000, 3, 60), p99(450)));
    ByteArrayOutputStream said = new ByteArrayOutputStream();
    boolean clean = LoadBenchMain.soak((duration, connections) -> runs.remove(), ProcessHandle.current().pid(),
        Duration.ofSeconds(30), Duration.ofMinutes(1), 8, dir.resolve("soak.png"),
        new PrintStream(said, true, StandardCharsets.UTF_8));
    String out = said.toString(StandardCharsets.UTF_8);
    assertEquals(false, clean, out);
    assertTrue(out.contains("soak_errors=3"), out);
  }

  private static WrkResult p99(double millis) {
    return new WrkResult(millis / 2, millis, 1000, 0, 60);
  }
}
