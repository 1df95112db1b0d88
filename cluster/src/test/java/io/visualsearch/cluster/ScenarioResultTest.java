package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When the chaos suite passes a scenario (the cluster's part is ITKillReconciliation's). */
class ScenarioResultTest {

  static Reconciliation reconciliation(int lost) {
    return new Reconciliation(List.of(new TenantReconciliation("a", "v1", 10, 10 - lost, lost, 0, 0, 0, 0, 0,
        List.of())));
  }

  @Test
  void aScenarioPassesOnlyWhenItsIndexesReconcileNoQueryFailedAndEverythingRecovered() {
    assertTrue(new ScenarioResult(reconciliation(0), List.of()).passed(0));
    assertFalse(new ScenarioResult(reconciliation(1), List.of()).passed(0), "a product lost");
    assertFalse(new ScenarioResult(reconciliation(0), List.of()).passed(1), "a query failed outside an outage");
    // The other replica did the dead one's work: the indexes reconcile, the cluster is still broken.
    assertFalse(new ScenarioResult(reconciliation(0), List.of("image-indexer-2 is not running (exit 4)")).passed(0),
        "a member dead at the scenario's end");
    assertFalse(new ScenarioResult(reconciliation(0), List.of("all services ready within 5 min after s3 was back"))
        .passed(0), "services never all ready again");
  }

  @Test
  void aWaitThatNeverEndedIsARecoveryThatNeverCame() {
    Recovery recovery = new Recovery();
    assertNotEquals("NEVER", recovery.waited("all services ready", 2.5));
    assertEquals(List.of(), recovery.missing());
    assertEquals("NEVER", recovery.waited("ingest converged", -1));
    recovery.missed("swap round 2: 1 of 2 tenants published no new version");
    assertEquals(List.of("ingest converged", "swap round 2: 1 of 2 tenants published no new version"),
        recovery.missing());
  }

  /** Run as a member's main: up until killed. */
  public static final class Idle {
    public static void main(String[] args) throws InterruptedException {
      Thread.sleep(120_000);
    }
  }

  ManagedProcess idle(Path data, String name, URI readyUrl) {
    ProcessSpec spec = new ProcessSpec(name, "cluster", Idle.class.getName(), List.of("-Xmx32m"), List.of(), Map.of(),
        readyUrl, 300);
    return new ManagedProcess(spec, System.getProperty("java.class.path"), data.resolve("logs/" + name + ".log"),
        data.resolve("tmp/" + name));
  }

  @Test
  void aMemberThatDiedOrDoesNotAnswerReadyIsReported(@TempDir Path data) throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    ManagedProcess broker = idle(data, "kafka", null);
    ManagedProcess service = idle(data, "image-indexer-2", URI.create("http://127.0.0.1:" + closedPort + "/readyz"));
    try {
      broker.start();
      service.start();
      assertEquals(List.of(), ChaosContext.notRunningOrNotReady(List.of(broker)), "running, and judged ready another way");
      List<String> unready = ChaosContext.notRunningOrNotReady(List.of(broker, service));
      assertEquals(1, unready.size(), unready.toString());
      assertTrue(unready.get(0).startsWith("image-indexer-2 is not ready"), unready.get(0));

      broker.kill();
      List<String> dead = ChaosContext.notRunningOrNotReady(List.of(broker));
      assertEquals(1, dead.size(), dead.toString());
      assertTrue(dead.get(0).startsWith("kafka is not running"), dead.get(0));
    } finally {
      broker.kill();
      service.kill();
    }
  }
}
