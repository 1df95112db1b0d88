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
  public ScenarioResult run(ChaosContext ctx) throws Exception {
    ctx.churn(0.3, 0.05, 3, 5);
    Thread.sleep(3000);
    long killedAt = System.nanoTime();
    ctx.cluster().member("kafka").kill();
    ctx.say("kafka killed -9 mid-ingest; restarting it on its data directory");
    ctx.cluster().restart("kafka");
    long back = System.nanoTime();
    double brokerDown = (back - killedAt) / 1e9;
    Recovery recovery = new Recovery();
    String ready = recovery.waited("all services ready within 5 min after the broker was back",
        ctx.awaitAllReady(back, Duration.ofMinutes(5)));
    String converged = recovery.waited("ingest converged within " + ctx.convergeTimeout + " after the broker was back",
        ctx.awaitConverged(back));
    ctx.say(String.format("broker-restart: broker back after %.1f s; recovery: all services ready %s after it,"
        + " ingest converged %s after it", brokerDown, ready, converged));
    return ctx.finish(name(), recovery);
  }
}
