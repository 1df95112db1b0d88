package io.visualsearch.cluster;

import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * (e) Index swaps under continuous query load: {@code rounds} feed changes, each waited on until
 * every tenant's CURRENT pointer has moved to a new version and the query load has had an answer
 * from that version (search-api loads it beside the served one and swaps), while the query load
 * runs with no outage declared. Any failed query fails the suite.
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
      Map<String, String> now = currentVersions(ctx);
      List<String> pending = notYetServed(before, now, ctx.load.indexVersions());
      while (System.nanoTime() < deadline && !pending.isEmpty()) {
        Thread.sleep(1000);
        now = currentVersions(ctx);
        pending = notYetServed(before, now, ctx.load.indexVersions());
      }
      int moved = changed(before, now);
      swaps += moved;
      ctx.say("swap round " + round + ": " + moved + "/" + before.size() + " tenants published a new version, "
          + (before.size() - pending.size()) + "/" + before.size() + " served it in answers");
      if (!pending.isEmpty()) {
        recovery.missed("swap round " + round + " not done within " + ctx.convergeTimeout + ": "
            + String.join("; ", pending));
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

  /**
   * The tenants a swap round still waits for, each with why: CURRENT has not moved from
   * {@code before}, or it has but no answer of the query load came from that version yet (a
   * pointer flip search-api never loads would otherwise pass the round). {@code served} holds
   * {@code tenant@version} of answers seen.
   */
  static List<String> notYetServed(Map<String, String> before, Map<String, String> now, Set<String> served) {
    List<String> out = new ArrayList<>();
    for (String tenant : new TreeSet<>(before.keySet())) {
      String current = now.getOrDefault(tenant, "");
      if (current.equals(before.get(tenant))) {
        out.add(tenant + " published no new version");
      } else if (!served.contains(tenant + "@" + current)) {
        out.add(tenant + " published " + current + " but no answer came from it");
      }
    }
    return out;
  }

  private static int changed(Map<String, String> before, Map<String, String> now) {
    return (int) before.keySet().stream().filter(t -> !before.get(t).equals(now.get(t))).count();
  }
}
