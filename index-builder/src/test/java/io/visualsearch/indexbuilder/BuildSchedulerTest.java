package io.visualsearch.indexbuilder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class BuildSchedulerTest {

  /**
   * The group watch catches exceptions and goes on; an Error ended its periodic task without a
   * word, and the builder stayed ready while nothing watched for another member's records.
   */
  @Test
  void aGroupWatchEndedByAnErrorMakesTheBuilderNotReadyAndWedged() {
    BuildMetrics metrics = new BuildMetrics(new PrometheusRegistry());
    TenantBuild build = new TenantBuild(new TenantBuild.Parts(null, null, null, null, null, null, null, null, null,
        null, null, metrics, Clock.systemUTC(), null));
    IntakeGate gate = new IntakeGate(() -> {
      if (Thread.currentThread().getName().equals("index-builder-group-watch")) {
        throw new StackOverflowError("a bug deep in the watch");
      }
      return null; // elsewhere (the readiness check): no loop wired, every build may run
    }, new Catalogs(0, Clock.systemUTC()), null, Clock.systemUTC(), e -> { });
    BuildScheduler scheduler = new BuildScheduler(new RebuildSchedule(Duration.ZERO, Duration.ZERO, Duration.ZERO),
        build, new ShardBuilder(1_000, 1), metrics, Clock.systemUTC(), Duration.ofSeconds(5), gate);
    scheduler.start();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> !scheduler.check().ok());
      assertTrue(scheduler.check().detail().contains("the group watch died: java.lang.StackOverflowError"),
          scheduler.check().detail());
      // Nothing brings the task back: /healthz fails, and the orchestrator restarts the process.
      assertTrue(String.valueOf(scheduler.wedged()).contains("the group watch died"), scheduler.wedged());
    } finally {
      scheduler.close();
    }
  }
}
