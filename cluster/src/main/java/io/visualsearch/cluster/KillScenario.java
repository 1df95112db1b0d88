package io.visualsearch.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * (a) {@code kills} times over one ingest: SIGKILL a randomly chosen service process (any of the
 * nine: seven services, the two scaled ones twice; including the only search-api, model-server and
 * index-builder), restart it at once and wait until it is ready again. The feeds change twice while
 * the kills go on, so the ingest keeps flowing through every hop. Query failures while search-api
 * or model-server itself is down are the documented single-instance outage and counted apart; all
 * others are failures.
 */
final class KillScenario implements Scenario {

  private final int kills;

  KillScenario(int kills) {
    this.kills = kills;
  }

  @Override
  public String name() {
    return "kill";
  }

  @Override
  public ScenarioResult run(ChaosContext ctx) throws Exception {
    List<ManagedProcess> services = ctx.cluster().serviceMembers();
    List<Double> restarts = new ArrayList<>();
    Recovery recovery = new Recovery();
    long start = System.nanoTime();
    for (int i = 1; i <= kills; i++) {
      Thread.sleep(1000 + ctx.random.nextInt(4000));
      if (i == 1 || i == kills / 2 + 1) {
        ctx.churn(0.2, 0.05, 2, 3);
        Thread.sleep(1000);
      }
      ManagedProcess victim = services.get(ctx.random.nextInt(services.size()));
      boolean queryPath = victim.name().startsWith("search-api") || victim.name().startsWith("model-server");
      if (queryPath) {
        ctx.load.beginOutage();
      }
      long killedAt = System.nanoTime();
      victim.kill();
      long deadAt = System.nanoTime(); // answers completing before this were in flight, not recovered
      // Not ready within Cluster.RESTART_READY is reported as NEVER, not as that wait's length; it
      // fails the scenario only if still so at its end (ChaosContext.finish), as a slow start on a
      // loaded machine may come right.
      boolean becameReady = ctx.cluster().restart(victim.name());
      double ready = becameReady ? (System.nanoTime() - killedAt) / 1e9 : -1;
      if (becameReady) {
        restarts.add(ready);
      }
      String query = "";
      if (queryPath) {
        long ok = ctx.load.awaitSuccessAfter(deadAt, Duration.ofMinutes(3).toMillis());
        ctx.load.endOutage();
        query = ", queries answered again after " + recovery.waited("queries answered within 3 min after kill " + i
            + " (" + victim.name() + ")", ok < 0 ? -1 : (ok - deadAt) / 1e9);
      }
      ctx.say(String.format("kill %d/%d: %s (pid %d) killed -9, ready again after %s%s", i, kills, victim.name(),
          victim.pid(), becameReady ? Recovery.shown(ready) : "NEVER (not within " + Cluster.RESTART_READY + ")", query));
    }
    double converged = ctx.awaitConverged(start);
    recovery.waited("ingest converged within " + ctx.convergeTimeout + " of the first kill", converged);
    ctx.say(String.format("kill: %d kills, %d ready again, restart-to-ready max %.1f s, mean %.1f s; ingest converged %s",
        kills, restarts.size(),
        restarts.stream().mapToDouble(d -> d).max().orElse(0), restarts.stream().mapToDouble(d -> d).average().orElse(0),
        converged < 0 ? "NEVER" : String.format("%.1f s after the first kill", converged)));
    return ctx.finish(name(), recovery);
  }
}
