package io.visualsearch.cluster;

import io.visualsearch.runtime.ExitCode;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./visual-search cluster [--size N --tenants a,b --base-port P --data DIR --no-zipkin]}:
 * the multi-process cluster with the sample retailers, until Ctrl-C; then every member stops in
 * order (intake first, the broker last).
 */
public final class ClusterMain {

  static final String USAGE = "usage: ./visual-search cluster [--size 300] [--tenants a,b] [--base-port 19000 (0 = free ports)]"
      + " [--data data/cluster] [--sync-interval 30s] [--no-zipkin]";

  private ClusterMain() {}

  public static void main(String[] argv) throws Exception {
    Args args;
    try {
      args = new Args(argv, Set.of("size", "tenants", "base-port", "data", "sync-interval", "no-zipkin"));
    } catch (IllegalArgumentException e) {
      System.err.println("cluster: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(ExitCode.CONFIG_ERROR.code());
      return;
    }
    RepoLayout repo = RepoLayout.locate();
    ClusterSession session;
    try {
      session = ClusterSession.start(repo, repo.root().resolve(args.string("data", "data/cluster")),
          args.list("tenants", "a,b"), args.integer("size", 300), args.integer("base-port", 19000),
          args.duration("sync-interval", Duration.ofSeconds(30)), !args.flag("no-zipkin"), Map.of(), System.out);
    } catch (IllegalArgumentException e) {
      System.err.println("cluster: " + e.getMessage());
      System.exit(ExitCode.CONFIG_ERROR.code());
      return;
    } catch (Exception e) {
      System.err.println("cluster: " + e.getMessage());
      System.exit(ExitCode.START_FAILED.code());
      return;
    }
    session.describe(System.out);
    System.out.println("cluster: running; Ctrl-C stops every member in order.");
    // The session's shutdown hook stops every member in order on Ctrl-C. Until then, report a
    // member that dies on its own (once): in this cluster nothing restarts it automatically.
    java.util.Set<String> reported = new java.util.HashSet<>();
    while (true) {
      for (ManagedProcess m : session.cluster().members()) {
        if (!m.alive() && m.exitCode() >= 0 && reported.add(m.name())) {
          System.err.println("cluster: " + m.name() + " exited with " + m.exitCode() + "; see " + m.logFile());
        }
      }
      Thread.sleep(5_000);
    }
  }
}
