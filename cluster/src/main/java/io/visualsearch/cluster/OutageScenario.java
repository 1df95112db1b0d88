package io.visualsearch.cluster;

import java.time.Duration;

/**
 * (c)/(d) A dependency down for a while mid-ingest — the S3-compatible store or the model server —
 * then back (same process spec, same port, same data). Recovery must need no manual action: no
 * service is restarted. Measured from the moment the dependency is back: every service ready,
 * queries answered (the model-server outage takes queries down by design: a query is embedded by
 * it), and the ingest converged.
 */
final class OutageScenario implements Scenario {

  private final String member;
  private final Duration down;

  OutageScenario(String member, Duration down) {
    this.member = member;
    this.down = down;
  }

  @Override
  public String name() {
    return member.equals("s3") ? "s3-down" : "model-server-down";
  }

  @Override
  public ScenarioResult run(ChaosContext ctx) throws Exception {
    boolean queryPath = member.startsWith("model-server");
    ctx.churn(0.3, 0.05, 3, 5);
    Thread.sleep(3000);
    if (queryPath) {
      ctx.load.beginOutage();
    }
    ctx.cluster().member(member).kill();
    ctx.say(member + " down mid-ingest for " + down.toSeconds() + " s");
    Thread.sleep(down.toMillis());
    ctx.cluster().restart(member);
    long back = System.nanoTime();
    ctx.say(member + " back");
    Recovery recovery = new Recovery();
    String query = "";
    if (queryPath) {
      long ok = ctx.load.awaitSuccessAfter(back, Duration.ofMinutes(5).toMillis());
      ctx.load.endOutage();
      query = ", queries answered " + recovery.waited("queries answered within 5 min after " + member + " was back",
          ok < 0 ? -1 : (ok - back) / 1e9) + " after it";
    }
    String ready = recovery.waited("all services ready within 5 min after " + member + " was back",
        ctx.awaitAllReady(back, Duration.ofMinutes(5)));
    String converged = recovery.waited("ingest converged within " + ctx.convergeTimeout + " after " + member
        + " was back", ctx.awaitConverged(back));
    ctx.say(String.format("%s: recovery: all services ready %s after it is back%s, ingest converged %s after it",
        name(), ready, query, converged));
    return ctx.finish(name(), recovery);
  }
}
