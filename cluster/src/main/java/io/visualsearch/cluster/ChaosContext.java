package io.visualsearch.cluster;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Random;

/**
 * What every fault scenario works with: the running cluster and retailers, the query load, the
 * reconciler, a seeded random source (a failing run can be replayed with {@code --seed}), and the
 * output stream. Also the two waits every scenario ends with.
 */
public final class ChaosContext {

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

  /** The full reconciliation (index + every product's answer), printed per tenant. */
  Reconciliation reconcile(String scenario) throws Exception {
    Reconciliation r = reconciler.reconcile(feeds(), session.searchClient(), session.catalog().apiKeys());
    for (TenantReconciliation t : r.tenants()) {
      out.println("chaos: [" + scenario + "] " + t.line());
    }
    return r;
  }
}
