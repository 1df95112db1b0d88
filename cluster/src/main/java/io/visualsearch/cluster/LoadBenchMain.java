package io.visualsearch.cluster;

import io.visualsearch.runtime.ExitCode;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./visual-search bench load [--seconds 60 --connections 8] [--soak 30m]}: steady query
 * load with {@code wrk} against search-api on a fresh cluster holding one retailer's catalog.
 * Load mode prints p50/p99, throughput and errors. Soak mode, after one untimed warm-up run,
 * repeats one-minute wrk runs for the soak duration, samples each run's p99 and search-api's RSS,
 * plots both curves (data/bench/soak.png) and prints their drift: last sample over first.
 */
public final class LoadBenchMain {

  static final String USAGE = "usage: ./visual-search bench load [--seconds 60] [--connections 8] [--soak 30m]"
      + " [--sample 60s] [--size 200] [--base-port 0] [--data data/cluster-bench]";

  private LoadBenchMain() {}

  public static void main(String[] argv) {
    Args args;
    try {
      args = new Args(argv, Set.of("seconds", "connections", "soak", "sample", "size", "base-port", "data"));
    } catch (IllegalArgumentException e) {
      System.err.println("bench load: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(ExitCode.CONFIG_ERROR.code());
      return;
    }
    if (!WrkRunner.available()) {
      System.err.println("bench load: wrk is not installed (./visual-search setup installs Debian's wrk)");
      System.exit(ExitCode.CONFIG_ERROR.code());
    }
    try {
      System.exit(run(args, RepoLayout.locate(), System.out) ? 0 : ExitCode.FAILED.code());
    } catch (IllegalArgumentException e) {
      // an option's value (a number, a refused --data directory), read as the run needs it
      System.err.println("bench load: " + e.getMessage());
      System.exit(ExitCode.CONFIG_ERROR.code());
    } catch (Exception e) {
      System.err.println("bench load: " + e);
      System.exit(ExitCode.START_FAILED.code());
    }
  }

  static boolean run(Args args, RepoLayout repo, PrintStream out) throws Exception {
    String tenant = "load";
    try (ClusterSession session = ClusterSession.start(repo, repo.root().resolve(args.string("data", "data/cluster-bench")),
        List.of(tenant), args.integer("size", 200), args.integer("base-port", 0), Duration.ofSeconds(30), false,
        Map.of(), out)) {
      TenantFeed feed = session.catalog().feed(tenant);
      String sku = feed.skus().get(feed.size() / 2);
      byte[] photo = session.catalog().png(feed.imageIndex(sku));
      String key = session.catalog().apiKeys().get(tenant);
      awaitSearchable(session.searchClient(), key, photo, sku, out);
      WrkRunner wrk = new WrkRunner(repo.root().resolve("data/bench"), session.cluster().searchUrl(), key, photo);
      long pid = session.cluster().member("search-api-1").pid();
      int connections = args.integer("connections", 8);
      if (!args.has("soak")) {
        WrkResult r = wrk.run(Duration.ofSeconds(args.integer("seconds", 60)), connections);
        out.printf("load: %d requests in %.0f s over %d connections: p50 %.1f ms, p99 %.1f ms, %.1f queries/s, %d errors%n",
            r.requests(), r.seconds(), connections, r.p50Millis(), r.p99Millis(), r.qps(), r.errors());
        out.printf("load_p50_ms=%.2f%nload_p99_ms=%.2f%nload_qps=%.2f%nload_errors=%d%n", r.p50Millis(), r.p99Millis(),
            r.qps(), r.errors());
        return r.errors() == 0;
      }
      return soak(wrk::run, pid, args.duration("soak", Duration.ofMinutes(30)), args.duration("sample", Duration.ofMinutes(1)),
          connections, repo.root().resolve("data/bench/soak.png"), out);
    }
  }

  /** One wrk run of the given length. */
  @FunctionalInterface
  interface LoadRun {
    WrkResult run(Duration duration, int connections) throws Exception;
  }

  /**
   * One untimed warm-up run of {@code sample}, then {@code total / sample} (at least one) sampled
   * runs back to back. The drifts compare the last sample with the first after the warm-up: a
   * first run measures search-api while the JIT still compiles its path (p99 1070 ms against 450
   * two minutes later in the 30-minute soak of README.md), and as the baseline it hid a growing
   * p99 behind the cold start's.
   */
  static boolean soak(LoadRun wrk, long pid, Duration total, Duration sample, int connections, Path png,
      PrintStream out) throws Exception {
    List<Double> minutes = new ArrayList<>();
    List<Double> p99 = new ArrayList<>();
    List<Double> rss = new ArrayList<>();
    WrkResult warm = wrk.run(sample, connections);
    long errors = warm.errors();
    out.printf("soak: warm-up run (not sampled)  p50 %.1f ms  p99 %.1f ms  %.1f q/s  errors %d%n", warm.p50Millis(),
        warm.p99Millis(), warm.qps(), warm.errors());
    long samples = Math.max(1, -Math.floorDiv(-total.toNanos(), Math.max(1, sample.toNanos())));
    long t0 = System.nanoTime();
    for (long i = 0; i < samples; i++) {
      WrkResult r = wrk.run(sample, connections);
      double at = (System.nanoTime() - t0) / 60e9;
      double mb = ProcessRss.kilobytes(pid) / 1024.0;
      minutes.add(at);
      p99.add(r.p99Millis());
      rss.add(mb);
      errors += r.errors();
      out.printf("soak: %5.1f min  p50 %.1f ms  p99 %.1f ms  %.1f q/s  errors %d  search-api RSS %.0f MB%n", at,
          r.p50Millis(), r.p99Millis(), r.qps(), r.errors(), mb);
      SoakPlot.write(png, minutes, p99, rss); // rewritten each sample: a stopped soak still leaves its plot
    }
    out.println("soak: plot in " + png);
    out.printf("soak_errors=%d%nsoak_p99_drift=%.3f%nsoak_rss_drift=%.3f%n", errors,
        p99.get(p99.size() - 1) / p99.get(0), rss.get(rss.size() - 1) / rss.get(0));
    return errors == 0;
  }

  private static void awaitSearchable(SearchClient client, String key, byte[] photo, String sku, PrintStream out)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        SearchClient.Answer a = client.search(key, photo, 5);
        if (a.ok() && a.hits().stream().anyMatch(h -> h.sku().equals(sku))) {
          out.println("load: catalog searchable (index " + a.indexVersion() + ")");
          return;
        }
      } catch (java.io.IOException notYet) {
        // search-api not answering yet
      }
      Thread.sleep(2000);
    }
    throw new IllegalStateException("catalog not searchable within 10 min");
  }
}
