package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** How the suite ends when a scenario finds a fault by throwing rather than by reconciling (no cluster needed). */
class ChaosMainTest {

  private static Scenario scenario(String name, ScenarioResult result, Exception thrown, AtomicBoolean ran) {
    return new Scenario() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public ScenarioResult run(ChaosContext ctx) throws Exception {
        ran.set(true);
        if (thrown != null) {
          throw thrown;
        }
        return result;
      }
    };
  }

  @Test
  void aScenarioThatThrowsFailsTheSuiteAndTheSummaryLineIsStillPrinted() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    AtomicBoolean first = new AtomicBoolean();
    AtomicBoolean second = new AtomicBoolean();
    AtomicBoolean third = new AtomicBoolean();
    List<Scenario> scenarios = List.of(
        scenario("kill", new ScenarioResult(ScenarioResultTest.reconciliation(0), List.of()), null, first),
        scenario("broker", null, new IOException("image-indexer-2 exited with 4 after restart"), second),
        scenario("swap", new ScenarioResult(ScenarioResultTest.reconciliation(0), List.of()), null, third));
    try (QueryLoad noLoad = new QueryLoad(null, null, 0, 100)) {
      ChaosContext ctx = new ChaosContext(null, null, noLoad, new Random(1), out, Duration.ofSeconds(1));

      assertFalse(ChaosMain.runScenarios(scenarios, ctx), "a scenario that threw failed the suite");
    }

    assertTrue(first.get() && second.get());
    assertFalse(third.get(), "scenarios after the one that threw are skipped");
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("chaos: [broker] failed") && text.contains("image-indexer-2 exited with 4"), text);
    List<String> lines = text.lines().toList();
    assertEquals("expected=10 found=10 lost=0 stale=0 duplicate=0 failed_queries=0", lines.get(lines.size() - 1),
        "the last line sums the scenarios reconciled before the fault");
  }

  @Test
  void cleanScenariosPass() throws Exception {
    PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    try (QueryLoad noLoad = new QueryLoad(null, null, 0, 100)) {
      ChaosContext ctx = new ChaosContext(null, null, noLoad, new Random(1), out, Duration.ofSeconds(1));
      assertTrue(ChaosMain.runScenarios(List.of(
          scenario("kill", new ScenarioResult(ScenarioResultTest.reconciliation(0), List.of()), null, new AtomicBoolean())),
          ctx));
    }
  }
}
