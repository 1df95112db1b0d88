package io.visualsearch.cluster;

import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * (e) Index swaps under continuous query load: {@code rounds} feed changes, each waited on until
 * every tenant's CURRENT pointer has moved to a new version (search-api then loads it beside the
 * served one and swaps), while the query load runs with no outage declared. Any failed query
 * fails the suite.
 */
final class SwapUnderLoadScenario implements Scenario {

  private final int rounds;

  SwapUnderLoadScenario(int rounds) {
    this.rounds = rounds;
  }

  @Override
  public String name() {
    return "swap-under-load";
  }

  @Override
  public ScenarioResult run(ChaosContext ctx) throws Exception {
    long failedBefore = ctx.load.failed();
    long okBefore = ctx.load.ok();
    int versionsBefore = ctx.load.indexVersions().size();
    int swaps = 0;
    Recovery recovery = new Recovery();
    for (int round = 1; round <= rounds; round++) {
      Map<String, String> before = currentVersions(ctx);
      ctx.churn(0.05, 0.05, 1, 1);
      long deadline = System.nanoTime() + ctx.convergeTimeout.toNanos();
      while (System.nanoTime() < deadline && changed(before, currentVersions(ctx)) < before.size()) {
        Thread.sleep(1000);
      }
      int moved = changed(before, currentVersions(ctx));
      swaps += moved;
      ctx.say("swap round " + round + ": " + moved + "/" + before.size() + " tenants published a new version");
      if (moved < before.size()) {
        recovery.missed("swap round " + round + ": " + (before.size() - moved) + " of " + before.size()
            + " tenants published no new version within " + ctx.convergeTimeout);
      }
    }
    String converged = recovery.waited("ingest converged within " + ctx.convergeTimeout + " after the swaps",
        ctx.awaitConverged(System.nanoTime()));
    ctx.say(String.format("swap-under-load: %d index publications, %d answered queries, %d distinct served versions"
        + " seen in answers, failed queries %d; converged %s", swaps, ctx.load.ok() - okBefore,
        ctx.load.indexVersions().size() - versionsBefore, ctx.load.failed() - failedBefore, converged));
    return ctx.finish(name(), recovery);
  }

  private static Map<String, String> currentVersions(ChaosContext ctx) throws Exception {
    IndexJson json = new IndexJson();
    Map<String, String> out = new HashMap<>();
    for (TenantFeed feed : ctx.feeds()) {
      var pointer = ctx.session.objectStore().get(IndexLayout.currentPointer(feed.tenant()));
      CurrentPointer p = pointer.isPresent() ? json.pointer(pointer.get().bytes()) : null;
      out.put(feed.tenant(), p == null ? "" : p.version());
    }
    return out;
  }

  private static int changed(Map<String, String> before, Map<String, String> now) {
    return (int) before.keySet().stream().filter(t -> !before.get(t).equals(now.get(t))).count();
  }
}
