package io.visualsearch.cluster;

import java.time.Duration;

/**
 * (b) The broker crashes mid-ingest (SIGKILL, no clean shutdown) and comes back on the same log
 * directory. Every service must reconnect by itself; nothing is restarted by hand.
 */
final class BrokerRestartScenario implements Scenario {

  @Override
  public String name() {
    return "broker-restart";
  }

  @Override
  public Reconciliation run(ChaosContext ctx) throws Exception {
    ctx.churn(0.3, 0.05, 3, 5);
    Thread.sleep(3000);
    long killedAt = System.nanoTime();
    ctx.cluster().member("kafka").kill();
    ctx.say("kafka killed -9 mid-ingest; restarting it on its data directory");
    ctx.cluster().restart("kafka");
    long back = System.nanoTime();
    double brokerDown = (back - killedAt) / 1e9;
    double ready = ctx.awaitAllReady(back, Duration.ofMinutes(5));
    double converged = ctx.awaitConverged(back);
    ctx.say(String.format("broker-restart: broker back after %.1f s; recovery: all services ready %s after it,"
        + " ingest converged %s after it", brokerDown, seconds(ready), seconds(converged)));
    return ctx.reconcile(name());
  }

  static String seconds(double s) {
    return s < 0 ? "NEVER" : String.format("%.1f s", s);
  }
}
