package io.visualsearch.cluster;

import io.visualsearch.runtime.ExitCode;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * {@code ./visual-search chaos}: the fault suite on a fresh multi-process cluster with two sample
 * retailers. Scenarios run in order on the same cluster; each ends with an exact reconciliation
 * of the published indexes against the feeds. The last line is the sum over scenarios:
 * {@code expected=<n> found=<n> lost=<n> stale=<n> duplicate=<n> failed_queries=<n>}. Exit 0 only
 * when nothing was lost, stale or duplicated, no query failed outside a declared outage, and every
 * scenario recovered: services ready again, ingest converged, queries answered again, and every
 * member running and ready at its end.
 */
public final class ChaosMain {

  static final String USAGE = "usage: ./visual-search chaos [--kills 20] [--size 300] [--tenants a,b]"
      + " [--scenarios kill,broker,s3,model,swap] [--outage 60s] [--swaps 3] [--seed N] [--base-port 0]"
      + " [--data data/cluster-chaos] [--converge-timeout 10m] [--query-threads 2] [--zipkin]";

  private ChaosMain() {}

  public static void main(String[] argv) {
    Args args;
    try {
      args = new Args(argv, Set.of("kills", "size", "tenants", "scenarios", "outage", "swaps", "seed", "base-port",
          "data", "converge-timeout", "query-threads", "zipkin"));
    } catch (IllegalArgumentException e) {
      System.err.println("chaos: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(ExitCode.CONFIG_ERROR.code());
      return;
    }
    int code;
    try {
      code = run(args, RepoLayout.locate(), System.out) ? 0 : ExitCode.FAILED.code();
    } catch (IllegalArgumentException e) {
      System.err.println("chaos: " + e.getMessage());
      code = ExitCode.CONFIG_ERROR.code();
    } catch (Exception e) {
      System.err.println("chaos: " + e);
      e.printStackTrace();
      code = ExitCode.START_FAILED.code();
    }
    System.exit(code);
  }

  static List<Scenario> scenarios(Args args) {
    List<Scenario> out = new ArrayList<>();
    Duration outage = args.duration("outage", Duration.ofSeconds(60));
    for (String s : args.list("scenarios", "kill,broker,s3,model,swap")) {
      out.add(switch (s.trim()) {
        case "kill" -> new KillScenario(args.integer("kills", 20));
        case "broker" -> new BrokerRestartScenario();
        case "s3" -> new OutageScenario("s3", outage);
        case "model" -> new OutageScenario("model-server-1", outage);
        case "swap" -> new SwapUnderLoadScenario(args.integer("swaps", 3));
        default -> throw new IllegalArgumentException("unknown scenario '" + s + "' (kill, broker, s3, model, swap)");
      });
    }
    return out;
  }

  /** Runs the suite; true when it passed. */
  static boolean run(Args args, RepoLayout repo, PrintStream out) throws Exception {
    List<Scenario> scenarios = scenarios(args);
    long seed = args.has("seed") ? Long.parseLong(args.string("seed", "0")) : System.nanoTime();
    out.println("chaos: seed " + seed + " (--seed " + seed + " replays the same choices)");
    try (ClusterSession session = ClusterSession.start(repo, repo.root().resolve(args.string("data", "data/cluster-chaos")),
        args.list("tenants", "a,b"), args.integer("size", 300), args.integer("base-port", 0),
        Duration.ofSeconds(20), args.flag("zipkin"), Map.of(), out);
        ExpectedVectors vectors = new ExpectedVectors(session.catalog(), session.cluster().clientEnv());
        QueryLoad load = new QueryLoad(session.searchClient(), session.catalog(), args.integer("query-threads", 2), 100)) {
      Reconciler reconciler = new Reconciler(session.objectStore(), vectors, session.catalog());
      ChaosContext ctx = new ChaosContext(session, reconciler, load, new Random(seed), out,
          args.duration("converge-timeout", Duration.ofMinutes(10)));
      return runScenarios(scenarios, ctx);
    }
  }

  /**
   * Runs the scenarios in order and prints the summary; true when every one passed. A scenario
   * that throws (a restarted member died, the reconciliation could not read an object) is a fault
   * the suite found, not a start failure: it fails the run, the scenarios after it are skipped (the
   * cluster is in an unknown state), and the last line still sums what was reconciled.
   */
  static boolean runScenarios(List<Scenario> scenarios, ChaosContext ctx) {
    PrintStream out = ctx.out;
    QueryLoad load = ctx.load;
    List<Reconciliation> results = new ArrayList<>();
    boolean passed = true;
    for (int i = 0; i < scenarios.size(); i++) {
      Scenario scenario = scenarios.get(i);
      long failedBefore = load.failed();
      long t0 = System.nanoTime();
      ctx.say("=== scenario " + scenario.name());
      ScenarioResult r;
      try {
        r = scenario.run(ctx);
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        out.printf("chaos: [%s] failed after %.0f s: %s%n", scenario.name(), (System.nanoTime() - t0) / 1e9, e);
        e.printStackTrace(out);
        List<String> skipped = scenarios.subList(i + 1, scenarios.size()).stream().map(Scenario::name).toList();
        if (!skipped.isEmpty()) {
          out.println("chaos: skipped " + String.join(", ", skipped) + " (the cluster is in an unknown state)");
        }
        passed = false;
        break;
      }
      results.add(r.reconciliation());
      long failed = load.failed() - failedBefore;
      passed &= r.passed(failed);
      out.printf("chaos: [%s] done in %.0f s: %s%n", scenario.name(), (System.nanoTime() - t0) / 1e9,
          r.reconciliation().summary(failed));
    }
    out.println("chaos: queries answered " + load.ok() + ", unavailable during declared outages "
        + load.failedInOutage() + ", failed " + load.failed()
        + (load.sampleErrors().isEmpty() ? "" : " e.g. " + load.sampleErrors().iterator().next()));
    out.println(Reconciliation.total(results, load.failed()));
    out.flush();
    return passed && load.failed() == 0;
  }
}
