package io.visualsearch.searchapi.index;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.indexformat.CorruptIndexException;
import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.objectstore.ObjectStoreException;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.PeriodicTaskEnd;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps every tenant on the version its CURRENT pointer names. Loads all tenants at start, then
 * reloads a tenant when told (an index.published event) and every poll interval as a safety net.
 * Loading happens on background lanes beside the served version, a tenant on one lane at a time;
 * the switch itself is the registry's atomic install. A version that fails verification is refused
 * and the old one stays.
 */
public final class IndexSwapper implements Component {

  private static final Logger log = LoggerFactory.getLogger(IndexSwapper.class);
  /** Longest wait before loading again a version that failed to load for a reason of this instance. */
  private static final Duration MAX_LOAD_BACKOFF = Duration.ofMinutes(30);

  private final Activity activity;
  private final Tracer tracer;
  private final IndexLoader loader;
  private final TenantIndexes indexes;
  private final Duration pollInterval;
  private final Counter swaps;
  private final Counter refused;
  private final Counter overNativeMemory;
  private final Map<String, String> refusedVersions = new ConcurrentHashMap<>();
  /** Per tenant, a version that failed to load for a reason of this instance, and when to try it again. */
  private final Map<String, FailedLoad> failedLoads = new ConcurrentHashMap<>();
  /**
   * Per tenant, the newest publication whose reload is queued and not begun. One queued reload a
   * tenant: it reads CURRENT when it runs, so it serves every publication queued behind one long
   * load (an hour-long shard transfer) instead of each adding a task and a CURRENT read.
   */
  private final Map<String, Context> queued = new ConcurrentHashMap<>();
  /** Tenants a loader is reloading: one loader a tenant, so its versions install in the order published. */
  private final java.util.Set<String> reloading = ConcurrentHashMap.newKeySet();
  private final int loadThreads;
  /** Runs the poll; the loads run on {@link #loaders}. */
  private ScheduledExecutorService worker;
  private volatile java.util.concurrent.ExecutorService loaders;
  /** Set when an Error (out of memory loading a version) ended a load: the instance stops being ready. */
  private volatile String loaderDied;
  private volatile ScheduledFuture<?> poll;
  /** Tenants whose last load failed for the object store. */
  private final java.util.Set<String> storeFailures = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** The tenants this instance loads (those with an API key). */
  private final java.util.function.Predicate<String> serves;
  /** Published tenants it does not load, each logged once. */
  private final java.util.Set<String> unservedLogged = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /**
   * Tenants refused room while other versions held it: retried as soon as any reservation is given
   * back, not after a back-off that, with several lanes, another tenant's hour-long transfer made.
   */
  private final java.util.Set<String> waitingForRoom = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Tenants whose last load did not fit the native memory budget. */
  private final java.util.Set<String> overBudget = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /**
   * Tenants whose CURRENT version alone is larger than this instance's whole native allowance: no
   * wait makes it fit, so they do not hold the instance unready (that served none of the others),
   * and the check says who they are.
   */
  private final java.util.Set<String> neverFit = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Tenants published at the start that no load has served since, the store failing them or over the budget. */
  private final java.util.Set<String> unloadedSinceStart = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile String lastError;

  /**
   * {@code activity}: the health page's row; an installed version is activity, a refused or failed
   * load an error (the service stays ready, serving the previous version, so only the page shows it).
   */
  public IndexSwapper(IndexLoader loader, TenantIndexes indexes, Duration pollInterval, PrometheusRegistry registry,
      Activity activity, Tracer tracer) {
    this(loader, indexes, pollInterval, registry, activity, tracer, tenant -> true, 1);
  }

  /**
   * @param serves the tenants this instance loads: those with an API key. An offboarded retailer's
   *     index (its key removed) took native memory on every replica and could hold an instance
   *     unready at start, for a catalog no request could reach.
   * @param loadThreads versions of different tenants loaded at once. A load waits mostly on the
   *     object store; one at a time, an instance of 300 tenants took the sum of their loads to
   *     become ready, and a large tenant's hour-long transfer held every other tenant's publication.
   */
  public IndexSwapper(IndexLoader loader, TenantIndexes indexes, Duration pollInterval, PrometheusRegistry registry,
      Activity activity, Tracer tracer, java.util.function.Predicate<String> serves, int loadThreads) {
    if (loadThreads < 1) {
      throw new IllegalArgumentException("loadThreads must be at least 1, not " + loadThreads);
    }
    this.loadThreads = loadThreads;
    this.serves = serves;
    loader.onNativeMemoryReleased(this::retryWaitingForRoom);
    this.activity = activity;
    this.tracer = tracer;
    this.loader = loader;
    this.indexes = indexes;
    this.pollInterval = pollInterval;
    this.swaps = Counter.builder().name("search_index_swaps_total").help("Index versions installed")
        .register(registry);
    this.refused = Counter.builder().name("search_index_refused_total")
        .help("Index versions refused (corrupt, unreadable)").register(registry);
    this.overNativeMemory = Counter.builder().name("search_index_native_memory_refused_total")
        .help("Index version loads not attempted because the shards would not fit the native memory allowed"
            + " (SEARCH_NATIVE_MEMORY_BYTES) beside the versions loaded; retried with back-off").register(registry);
  }

  @Override
  public String name() {
    return "index-swapper";
  }

  /** Loads every published tenant, {@code loadThreads} at a time, before the service takes traffic. */
  @Override
  public void start() {
    AtomicInteger threads = new AtomicInteger();
    loaders = Executors.newFixedThreadPool(loadThreads, r -> {
      Thread t = new Thread(r, "index-loader-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    List<Future<?>> loads = new ArrayList<>();
    for (String tenant : servedOf(loader.publishedTenants())) {
      // Marked as being reloaded, so a publication arriving meanwhile waits for this load.
      reloading.add(tenant);
      loads.add(loaders.submit(() -> {
        try {
          if (refresh(tenant).isEmpty() && (storeFailed(tenant) || overBudget.contains(tenant))) {
            unloadedSinceStart.add(tenant);
          }
        } finally {
          reloading.remove(tenant);
        }
        resumeIfQueued(tenant);
      }));
    }
    for (Future<?> load : loads) {
      awaitStartLoad(load);
    }
    worker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "index-swapper");
      t.setDaemon(true);
      return t;
    });
    long every = Math.max(1, pollInterval.toMillis());
    poll = worker.scheduleWithFixedDelay(this::refreshAll, every, every, TimeUnit.MILLISECONDS);
  }

  /** A load at the start ended by an Error or an unexpected exception fails the start with it. */
  private static void awaitStartLoad(Future<?> load) {
    try {
      load.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while loading the indexes", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * Schedules a reload of the tenant's CURRENT version (called for index.published records); the
   * load is traced under {@code publication}, the record's context, so the build's trace shows when
   * each instance served it.
   */
  public void published(String tenant, Context publication) {
    if (serves.test(tenant)) {
      reload(tenant, publication);
    }
  }

  /**
   * Queues a reload of the tenant, unless one is queued already: it reads CURRENT when it runs, so
   * it serves this request too (the newest context is the one traced). A tenant being reloaded gets
   * its next reload from the same loader once this one ends, never from a second loader beside it.
   */
  private void reload(String tenant, Context context) {
    java.util.concurrent.ExecutorService l = loaders;
    if (l == null || l.isShutdown()) {
      return;
    }
    if (context == Context.root()) {
      // The poll's: a publication's queued reload keeps its context, so its trace shows the load.
      queued.putIfAbsent(tenant, context);
    } else {
      queued.put(tenant, context);
    }
    resumeIfQueued(tenant);
  }

  private void reloadWhileQueued(String tenant) {
    try {
      // Taken off before each load: a publication arriving meanwhile queues the next reload.
      for (Context next = queued.remove(tenant); next != null; next = queued.remove(tenant)) {
        try (Scope ignored = next.makeCurrent()) {
          refresh(tenant);
        }
      }
    } catch (Error e) {
      // Not rethrown: the lane's thread would die with it and the pool start another; the
      // instance's check reports it, and the orchestrator restarts what it can no longer trust.
      loaderDied = "an index load died: " + e;
      log.error("tenant {}: an index load died; the instance is not ready until restarted", tenant, e);
    } finally {
      reloading.remove(tenant);
    }
    if (loaderDied == null) {
      resumeIfQueued(tenant);
    }
  }

  /**
   * Starts a lane on the tenant's queued reload unless one has the tenant already: also the reload
   * queued between a lane's last look and its letting go of the tenant, which found it being
   * reloaded. Its context stays as queued (a newer publication's, if one came).
   */
  private void resumeIfQueued(String tenant) {
    java.util.concurrent.ExecutorService l = loaders;
    if (l != null && !l.isShutdown() && queued.containsKey(tenant) && reloading.add(tenant)) {
      try {
        l.execute(() -> reloadWhileQueued(tenant));
      } catch (RejectedExecutionException closing) {
        reloading.remove(tenant);
      }
    }
  }

  /** A reservation was given back: the tenants refused room for others' versions may fit now. */
  private void retryWaitingForRoom() {
    for (String tenant : waitingForRoom) {
      if (waitingForRoom.remove(tenant)) {
        failedLoads.remove(tenant);
        reload(tenant, Context.root());
      }
    }
  }

  /** The published tenants this instance serves; those it does not are named once each. */
  private java.util.List<String> servedOf(java.util.Set<String> published) {
    java.util.List<String> served = new java.util.ArrayList<>();
    for (String tenant : published) {
      if (serves.test(tenant)) {
        served.add(tenant);
      } else if (unservedLogged.add(tenant)) {
        log.info("tenant {} has a published index but no API key here: not loaded", tenant);
      }
    }
    return served;
  }

  private void refreshAll() {
    try {
      for (String tenant : servedOf(loader.publishedTenants())) {
        reload(tenant, Context.root());
      }
    } catch (RuntimeException e) {
      lastError = e.getMessage();
      log.warn("index poll failed: {}", e.getMessage());
    }
  }

  /** Installs the tenant's CURRENT version if it is not the served one; returns the served version. */
  public Optional<String> refresh(String tenant) {
    Optional<String> served = load(tenant);
    if (served.isPresent() || !storeFailed(tenant) && !overBudget.contains(tenant)) {
      unloadedSinceStart.remove(tenant);
    }
    return served;
  }

  private boolean storeFailed(String tenant) {
    return storeFailures.contains(tenant);
  }

  private Optional<String> load(String tenant) {
    String version = null;
    Span span = null;
    storeFailures.remove(tenant);
    try {
      Optional<CurrentPointer> pointer = loader.current(tenant);
      if (pointer.isEmpty()) {
        return indexes.servedVersion(tenant);
      }
      version = pointer.get().version();
      if (indexes.servedVersion(tenant).filter(version::equals).isPresent()
          || version.equals(refusedVersions.get(tenant)) || waiting(tenant, version)) {
        return indexes.servedVersion(tenant);
      }
      // Still over the budget while its back-off lasts (above); judged again by this load.
      overBudget.remove(tenant);
      neverFit.remove(tenant);
      // Only an actual load is a span: the polls that find nothing new would each be a trace.
      span = tracer.spanBuilder("load index").setAttribute("tenant", tenant).setAttribute("index.version", version)
          .startSpan();
      long t0 = System.nanoTime();
      LoadedIndex next;
      // Held while loading, so the served version's files can be shared with the next one.
      Optional<IndexLease> served = indexes.acquire(tenant);
      try {
        next = loader.load(tenant, version, served.map(IndexLease::index).orElse(null));
      } finally {
        served.ifPresent(IndexLease::close);
      }
      indexes.install(next);
      failedLoads.remove(tenant);
      swaps.inc();
      activity.recordActivity();
      span.setAttribute("vectors", next.skuCount());
      span.setAttribute("shards", next.shards().size());
      lastError = null;
      log.info("tenant {} now served from index {} ({} vectors, {} shards, model {} v{}) loaded in {} ms", tenant,
          version, next.skuCount(), next.shards().size(), next.modelName(), next.modelVersion(),
          (System.nanoTime() - t0) / 1_000_000);
    } catch (CorruptIndexException e) {
      refused.inc();
      activity.recordError();
      failed(span, "refused", e);
      lastError = "refused index of " + tenant + ": " + e.getMessage();
      // The version that failed, not whatever CURRENT names by now: a newer one published while
      // this one loaded has not been tried. An unreadable pointer (no version yet) is retried.
      if (version != null) {
        refusedVersions.put(tenant, version);
      }
      log.error("tenant {}: refusing index: {}; still serving {}", tenant, e.getMessage(),
          indexes.servedVersion(tenant).orElse("nothing"));
    } catch (ObjectStoreException e) {
      storeFailures.add(tenant);
      activity.recordError();
      failed(span, "object store", e);
      lastError = "object store: " + e.getMessage();
      log.warn("tenant {}: cannot read index, will retry: {}", tenant, e.getMessage());
    } catch (NativeMemoryBudget.Exceeded e) {
      // This instance's state, not the version's: retried with back-off (a version released
      // meanwhile may make room); one line, no trace, per attempt.
      (e.neverFits() ? neverFit : overBudget).add(tenant);
      if (!e.neverFits()) {
        waitingForRoom.add(tenant);
      }
      overNativeMemory.inc();
      activity.recordError();
      failed(span, "native memory", e);
      if (version != null) {
        backOff(tenant, version);
      }
      lastError = "not loading " + e.getMessage();
      log.warn("tenant {}: not loading {}; still serving {}", tenant, e.getMessage(),
          indexes.servedVersion(tenant).orElse("nothing"));
    } catch (RuntimeException e) {
      refused.inc();
      activity.recordError();
      failed(span, "load failed", e);
      if (version != null) {
        backOff(tenant, version);
      }
      lastError = "cannot load index of " + tenant + ": " + e;
      log.error("tenant {}: index load failed; still serving {}", tenant,
          indexes.servedVersion(tenant).orElse("nothing"), e);
    } finally {
      if (span != null) {
        span.end();
      }
    }
    return indexes.servedVersion(tenant);
  }

  private static void failed(Span span, String what, Exception e) {
    if (span != null) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, what + ": " + e.getMessage());
    }
  }

  /**
   * Whether a version that failed to load here (a full scratch disk, say) waits before the next
   * try: every poll and every index.published event downloaded the whole version again, on the
   * lane that loads the tenant's versions.
   */
  private boolean waiting(String tenant, String version) {
    FailedLoad f = failedLoads.get(tenant);
    return f != null && f.version().equals(version) && System.nanoTime() < f.retryAtNanos();
  }

  private void backOff(String tenant, String version) {
    failedLoads.compute(tenant, (t, f) -> {
      int attempts = f != null && f.version().equals(version) ? f.attempts() + 1 : 1;
      long delay = Math.min(MAX_LOAD_BACKOFF.toNanos(), Math.max(1, pollInterval.toNanos()) << Math.min(attempts - 1, 20));
      return new FailedLoad(version, attempts, System.nanoTime() + delay);
    });
  }

  private record FailedLoad(String version, int attempts, long retryAtNanos) {}

  /**
   * An Error in the poll ends it for good, and one in a load (out of memory loading a version)
   * leaves the instance unable to trust what it serves: either way it would serve ever older
   * versions of the tenants whose announcement it missed, until a restart.
   */
  @Override
  public String wedged() {
    String died = loaderDied;
    return died != null ? died : PeriodicTaskEnd.of(poll, "the index poll");
  }

  @Override
  public CheckResult check() {
    // An Error in the poll or a load; the instance would stay ready while it no longer looked for
    // versions whose announcement it missed.
    String died = wedged();
    if (died != null) {
      return CheckResult.failed(died);
    }
    if (!unloadedSinceStart.isEmpty()) {
      // Ready, it would take traffic for tenants it cannot search: a rolling update during store
      // throttling, or onto pods whose memory does not hold every tenant's shards, replaced every
      // instance that served them. Each poll (and publication) retries.
      // Named: lanes share lastError, which another tenant's success clears.
      java.util.List<String> names = new java.util.TreeSet<>(unloadedSinceStart).stream().limit(10).toList();
      return CheckResult.failed("indexes of " + unloadedSinceStart.size() + " tenant(s) not loaded since the start "
          + names + (unloadedSinceStart.size() > names.size() ? "..." : "") + ", the object store failing or their"
          + " shards over the native memory allowed; retried at each poll"
          + (lastError == null ? "" : "; last problem: " + lastError));
    }
    String e = lastError;
    if (!neverFit.isEmpty()) {
      return new CheckResult(true, "serving " + indexes.servedVersions() + "; never loaded here, larger than the"
          + " native memory this instance allows: " + new java.util.TreeSet<>(neverFit) + "; last problem: " + e);
    }
    // A refused version does not make the service unready: it keeps serving the previous one.
    return e == null ? CheckResult.OK
        : new CheckResult(true, "serving " + indexes.servedVersions() + "; last problem: " + e);
  }

  @Override
  public void close() {
    for (java.util.concurrent.ExecutorService executor : java.util.Arrays.asList(worker, loaders)) {
      if (executor != null) {
        executor.shutdownNow();
        try {
          executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    indexes.close();
  }
}
