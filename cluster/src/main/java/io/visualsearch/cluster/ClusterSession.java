package io.visualsearch.cluster;

import io.visualsearch.config.Config;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.samplecatalog.FashionMnist;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.io.file.PathUtils;

/**
 * A fresh cluster with its sample retailers: wipes the data directory (a new broker log and
 * bucket: every run starts from nothing, so a reconciliation only sees this run's products) —
 * only one a run marked as its own, see {@link #clearDataDir} —
 * writes the feeds, starts every member. What {@code cluster}, {@code chaos}, {@code bench load}
 * and the fault test share.
 */
public final class ClusterSession implements AutoCloseable {

  private final SampleCatalog catalog;
  private final Cluster cluster;
  private ObjectStore store;
  private Thread reaper;
  private boolean closed;

  private ClusterSession(SampleCatalog catalog, Cluster cluster) {
    this.catalog = catalog;
    this.cluster = cluster;
  }

  public static ClusterSession start(RepoLayout repo, Path dataDir, List<String> tenants, int size, int basePort,
      Duration syncInterval, boolean zipkin, Map<String, String> extraEnv, PrintStream log)
      throws IOException, InterruptedException {
    FashionMnist dataset = FashionMnist.debian();
    if (!dataset.isAvailable()) {
      throw new IOException("Fashion-MNIST not found in " + FashionMnist.DEBIAN_DIR + " (./visual-search setup)");
    }
    if (!Files.isDirectory(repo.modelBasePath().resolve("default"))) {
      throw new IOException("no exported model under " + repo.modelBasePath() + " (./visual-search build)");
    }
    clearDataDir(dataDir, repo.root());
    SampleCatalog catalog = new SampleCatalog(dataset, dataDir.resolve("feeds"), tenants, size);
    ClusterPlan plan = new ClusterPlan("127.0.0.1", dataDir, basePort, catalog.apiKeys(), catalog.sources(), 2,
        syncInterval, zipkin, extraEnv);
    Cluster cluster;
    try {
      cluster = new Cluster(repo, plan);
    } catch (RuntimeException e) {
      catalog.close();
      throw e;
    }
    ClusterSession session = new ClusterSession(catalog, cluster);
    // Whatever ends this JVM (Ctrl-C, a failed start, a test runner), no member outlives it.
    Thread reaper = new Thread(session::close, "cluster-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
    session.reaper = reaper;
    long t0 = System.nanoTime();
    log.println("cluster: starting " + cluster.members().size() + " processes (logs in " + dataDir.resolve("logs") + ")");
    try {
      cluster.start();
    } catch (IOException | InterruptedException | RuntimeException e) {
      session.close();
      throw e;
    }
    log.printf("cluster: all members ready in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    return session;
  }

  public Cluster cluster() {
    return cluster;
  }

  public SampleCatalog catalog() {
    return catalog;
  }

  public SearchClient searchClient() {
    return new SearchClient(cluster.searchUrl());
  }

  /** An object-store client on the cluster's bucket (the reconciler reads the published indexes with it). */
  public synchronized ObjectStore objectStore() {
    if (store == null) {
      Config config = ObjectStoreSettings.definition().parse(cluster.clientEnv());
      store = ObjectStore.fromConfig(config, false);
      store.start();
    }
    return store;
  }

  /** One line per member: name, pid, ops or ready URL, log. */
  public void describe(PrintStream out) {
    for (ManagedProcess m : cluster.members()) {
      out.printf("  %-24s pid %-7d %s%n", m.name(), m.pid(),
          m.spec().readyUrl() == null ? cluster.kafkaBootstrap() : m.spec().readyUrl());
    }
    out.println("  search API       " + cluster.searchUrl() + "api/v1/search");
    catalog.apiKeys().forEach((t, k) -> out.println("  tenant " + t + " key " + k + " feed " + catalog.feed(t).file()));
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (reaper != null && Thread.currentThread() != reaper) {
      try {
        Runtime.getRuntime().removeShutdownHook(reaper);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or about to; closing here is just as good
      }
    }
    if (store != null) {
      store.close();
    }
    cluster.close();
    catalog.close();
  }

  /** Written into every data directory a run uses: what marks it as ours to wipe on the next run. */
  static final String MARKER = ".visual-search-cluster";
  /** What an earlier run, from before the marker, left in its data directory. */
  private static final Set<String> RUN_ENTRIES = Set.of("feeds", "logs", "tmp", "stack");

  /**
   * Empties {@code dir} for a fresh run and marks it. {@code --data} is the user's to name, and the
   * whole tree is deleted, so only a directory that is provably a run's is: missing, empty, holding
   * {@link #MARKER}, or holding nothing but what a run writes. The repository and any directory
   * above it are refused outright ({@code --data .} would otherwise wipe the checkout).
   */
  static void clearDataDir(Path dir, Path repoRoot) throws IOException {
    Path target = dir.toAbsolutePath().normalize();
    Path root = repoRoot.toAbsolutePath().normalize();
    if (root.startsWith(target) || target.getParent() == null
        || target.equals(Path.of(System.getProperty("user.home")).toAbsolutePath().normalize())) {
      throw new IllegalArgumentException("--data " + dir + " is the repository, an ancestor of it, or a home or root"
          + " directory; a run deletes its data directory, so name one of its own (e.g. data/cluster)");
    }
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
        throw new IllegalArgumentException("--data " + dir + " exists and is not a directory");
      }
      List<String> entries;
      try (Stream<Path> list = Files.list(target)) {
        entries = list.map(p -> p.getFileName().toString()).sorted().toList();
      }
      boolean ours = entries.contains(MARKER) || RUN_ENTRIES.containsAll(entries);
      if (!ours) {
        throw new IllegalArgumentException("--data " + dir + " holds files no earlier run wrote (" + String.join(", ",
            entries.subList(0, Math.min(5, entries.size()))) + (entries.size() > 5 ? ", ..." : "") + ") and no "
            + MARKER + "; a run deletes its data directory, so name an empty or new one");
      }
      PathUtils.deleteDirectory(target);
    }
    Files.createDirectories(target);
    Files.writeString(target.resolve(MARKER), "data directory of a visual-search cluster run; the next run deletes it\n");
  }
}
