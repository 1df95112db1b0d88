package io.visualsearch.cluster;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * What every fault scenario works with: the running cluster and retailers, the query load, the
 * reconciler, a seeded random source (a failing run can be replayed with {@code --seed}), and the
 * output stream. Also the two waits every scenario ends with.
 */
public final class ChaosContext {

  /** How long a scenario's end waits for every member to be running and ready. */
  static final Duration MEMBERS_SETTLE = Duration.ofMinutes(2);

  final ClusterSession session;
  final Reconciler reconciler;
  final QueryLoad load;
  final Churn churn;
  final Random random;
  final PrintStream out;
  final Duration convergeTimeout;

  public ChaosContext(ClusterSession session, Reconciler reconciler, QueryLoad load, Random random, PrintStream out,
      Duration convergeTimeout) {
    this.session = session;
    this.reconciler = reconciler;
    this.load = load;
    this.churn = new Churn(random, 20_000);
    this.random = random;
    this.out = out;
    this.convergeTimeout = convergeTimeout;
  }

  Cluster cluster() {
    return session.cluster();
  }

  List<TenantFeed> feeds() {
    return session.catalog().feeds();
  }

  void say(String line) {
    out.println("chaos: " + line);
    out.flush();
  }

  /** Changes every feed and asks catalog-downloader to sync now. */
  void churn(double imageShare, double priceShare, int removals, int additions) throws Exception {
    say("feed change: " + churn.apply(feeds(), imageShare, priceShare, removals, additions));
    List<String> failures = session.catalog().requestSync(cluster().opsUrl("catalog-downloader-1"));
    if (!failures.isEmpty()) {
      say("sync request not taken (" + String.join("; ", failures) + "); the periodic sync will pick the change up");
    }
  }

  /** Seconds until every service member answers /readyz, or -1 on timeout. */
  double awaitAllReady(long sinceNanos, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (cluster().serviceMembers().stream().allMatch(ManagedProcess::ready)) {
        return (System.nanoTime() - sinceNanos) / 1e9;
      }
      Thread.sleep(250);
    }
    return -1;
  }

  /**
   * Polls the index-level reconciliation until it is clean; returns the seconds since
   * {@code sinceNanos} when it was, or -1 when {@link #convergeTimeout} passed first.
   */
  double awaitConverged(long sinceNanos) throws InterruptedException {
    long deadline = System.nanoTime() + convergeTimeout.toNanos();
    String last = "";
    long nextReport = 0;
    while (System.nanoTime() < deadline) {
      try {
        Reconciliation r = reconciler.indexOnly(feeds());
        if (r.clean()) {
          return (System.nanoTime() - sinceNanos) / 1e9;
        }
        last = r.summary(load.failed());
      } catch (Exception e) {
        last = "reconciliation not possible yet: " + e.getMessage();
      }
      if (System.nanoTime() > nextReport) {
        say("  converging: " + last);
        nextReport = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      }
      Thread.sleep(3000);
    }
    say("  not converged within " + convergeTimeout + ": " + last);
    return -1;
  }

  /**
   * Ends a scenario: the full reconciliation, then every member must be running and ready (waited
   * for up to {@link #MEMBERS_SETTLE}, as one may be between two calls). A member that died, or
   * never became ready again, fails the scenario however clean the indexes: its replica, or a
   * retry, may have done its work, and the cluster the next scenario starts from is not whole.
   */
  ScenarioResult finish(String scenario, Recovery recovery) throws Exception {
    Reconciliation r = reconcile(scenario);
    long deadline = System.nanoTime() + MEMBERS_SETTLE.toNanos();
    List<String> unwell = notRunningOrNotReady(cluster().members());
    while (!unwell.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(1000);
      unwell = notRunningOrNotReady(cluster().members());
    }
    unwell.forEach(recovery::missed);
    ScenarioResult result = new ScenarioResult(r, recovery.missing());
    if (!result.notRecovered().isEmpty()) {
      say("[" + scenario + "] not recovered: " + String.join("; ", result.notRecovered()));
    }
    return result;
  }

  /** Members not running, or running but not answering ready (those with a ready URL), now. */
  static List<String> notRunningOrNotReady(List<ManagedProcess> members) {
    List<String> out = new ArrayList<>();
    for (ManagedProcess m : members) {
      if (!m.alive()) {
        out.add(m.name() + " is not running (exit " + m.exitCode() + "; see " + m.logFile() + ")");
      } else if (m.spec().readyUrl() != null && !m.ready()) {
        out.add(m.name() + " is not ready (" + m.spec().readyUrl() + ")");
      }
    }
    return out;
  }

  /** The full reconciliation (index + every product's answer), printed per tenant. */
  Reconciliation reconcile(String scenario) throws Exception {
    Reconciliation r = reconciler.reconcile(feeds(), session.searchClient(), session.catalog().apiKeys());
    for (TenantReconciliation t : r.tenants()) {
      out.println("chaos: [" + scenario + "] " + t.line());
    }
    return r;
  }
}
