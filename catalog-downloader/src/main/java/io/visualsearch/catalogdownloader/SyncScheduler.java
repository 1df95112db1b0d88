package io.visualsearch.catalogdownloader;

import com.google.common.util.concurrent.MoreExecutors;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.PeriodicTaskEnd;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Syncs every source on a schedule and on demand ({@link #request}, behind {@code POST /sync}).
 * Up to {@code threads} tenants sync at once, each tenant's syncs one after another in its own lane
 * (two syncs of a tenant on one instance would share its lease and interleave their diffs): one
 * retailer's feed host dribbling its feed for the whole download limit held every other retailer's
 * sync behind it, 200 tenants' changes late by as much.
 */
final class SyncScheduler implements Component {

  private static final Logger log = LoggerFactory.getLogger(SyncScheduler.class);

  /** One sync of one source; {@link CatalogSync#run} in the service. */
  interface SyncJob {
    SyncReport run(FeedLocation source, LongConsumer progress) throws IOException, InterruptedException;
  }

  private final SyncJob sync;
  private final List<FeedLocation> sources;
  private final Duration interval;
  private final Map<String, SyncReport> last = new ConcurrentHashMap<>();
  /** On-demand syncs waiting for the worker, per tenant: a further request joins the waiting one. */
  private final Map<String, CompletableFuture<SyncReport>> queued = new ConcurrentHashMap<>();
  private volatile ScheduledExecutorService worker;
  /** Per tenant, its syncs in the order asked, one at a time, on {@link #worker}'s threads. */
  private volatile Map<String, Executor> lanes = Map.of();
  /** Syncs waiting in a lane or running, of every tenant. */
  private final AtomicInteger inLanes = new AtomicInteger();
  /** Tenants whose scheduled sync (a pass's or a retry) waits in its lane or runs: a pass does not add another. */
  private final Set<String> scheduledInLane = ConcurrentHashMap.newKeySet();
  private int threads = 1;
  /** The periodic passes; done only if one threw (an Error), which ends them for good. */
  private volatile ScheduledFuture<?> schedule;
  private final Set<String> running = ConcurrentHashMap.newKeySet();
  /** Per tenant, why its last sync on this instance failed; gone once one of its syncs succeeds. */
  private final Map<String, Throwable> failing = new ConcurrentHashMap<>();
  /** An Error that ended a sync; the next syncs would meet it again, or the JVM is not to be trusted. */
  private volatile Throwable died;
  private final Duration busyRetry;
  private final RetryBackoff failedRetry;
  /**
   * Per tenant, when the retry of a scheduled sync that found it busy or failed is due, while it
   * waits (one at most): put before the retry is scheduled, so it cannot run before the entry is there.
   */
  private final Map<String, Long> retries = new ConcurrentHashMap<>();
  private volatile boolean stopping;
  /** How long a stop waits for the syncs in hand: what is left of the service's stop allowance. */
  private volatile Supplier<Duration> drainLimit = () -> Duration.ofSeconds(60);

  /** CATALOG_SYNC_RETRY's default. */
  static final Duration FAILED_RETRY = Duration.ofSeconds(30);

  SyncScheduler(SyncJob sync, List<FeedLocation> sources, Duration interval) {
    this(sync, sources, interval, SyncLeases.TTL);
  }

  SyncScheduler(SyncJob sync, List<FeedLocation> sources, Duration interval, Duration busyRetry) {
    this(sync, sources, interval, busyRetry, FAILED_RETRY);
  }

  /**
   * {@code busyRetry}: when a scheduled sync found the tenant busy, how soon it is tried again;
   * {@code failedRetry}: when one failed, how soon it is tried again the first time (doubling up to
   * {@code interval}, see {@link RetryBackoff}; zero waits for the next interval).
   */
  SyncScheduler(SyncJob sync, List<FeedLocation> sources, Duration interval, Duration busyRetry, Duration failedRetry) {
    this(sync, sources, interval, busyRetry,
        new RetryBackoff(failedRetry, interval, () -> ThreadLocalRandom.current().nextDouble()));
  }

  SyncScheduler(SyncJob sync, List<FeedLocation> sources, Duration interval, Duration busyRetry,
      RetryBackoff failedRetry) {
    this.sync = sync;
    this.sources = List.copyOf(sources);
    this.interval = interval;
    this.busyRetry = busyRetry;
    this.failedRetry = failedRetry;
  }

  /**
   * How many tenants may sync at once (CATALOG_SYNC_THREADS); one before this is called. A tenant's
   * own syncs never overlap whatever this says.
   */
  SyncScheduler syncingAtOnce(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1: " + threads);
    }
    this.threads = threads;
    return this;
  }

  /**
   * Bounds a stop's wait for the syncs in hand by {@code timeLeft} (what is left of
   * SERVICE_SHUTDOWN_TIMEOUT): waiting its own minute, it outlived the process's stop limit, and
   * the components closed after it (the sync endpoint's answers, the producer's flush) never ran.
   */
  SyncScheduler drainWithin(Supplier<Duration> timeLeft) {
    this.drainLimit = timeLeft;
    return this;
  }

  @Override
  public String name() {
    return "sync-scheduler";
  }

  @Override
  public void start() {
    AtomicInteger named = new AtomicInteger();
    ScheduledThreadPoolExecutor w = new ScheduledThreadPoolExecutor(threads, r -> {
      Thread t = new Thread(r, "catalog-sync-" + named.incrementAndGet());
      t.setDaemon(false);
      return t;
    });
    // A stop lets the syncs in hand end, never starts a busy or failed tenant's retry still waiting:
    // it would start a whole sync (lease, feed download) while stopping.
    w.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    Map<String, Executor> perTenant = new HashMap<>();
    for (FeedLocation source : sources) {
      perTenant.put(source.tenant(), MoreExecutors.newSequentialExecutor(w));
    }
    lanes = Map.copyOf(perTenant);
    worker = w;
    if (!interval.isZero()) {
      schedule = worker.scheduleWithFixedDelay(this::syncAll, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Queues each tenant's scheduled sync in its lane; the lanes run them, {@code threads} at a time. */
  private void syncAll() {
    for (FeedLocation source : sources) {
      // A tenant busy or failing for longer than the interval already has its retry on the way:
      // another chain of retries each pass would sync it once per chain as soon as it is free.
      if (!retries.containsKey(source.tenant())) {
        queueScheduled(source);
      }
    }
  }

  /**
   * Queues the tenant's scheduled sync unless one is still waiting or running: a sync longer than
   * the interval, or a tenant waiting for a thread, would otherwise pile a sync up at every pass.
   */
  private void queueScheduled(FeedLocation source) {
    String tenant = source.tenant();
    if (!scheduledInLane.add(tenant)) {
      return;
    }
    try {
      inLane(tenant, () -> {
        try {
          if (!stopping) {
            syncScheduled(source);
          }
        } finally {
          scheduledInLane.remove(tenant);
        }
      });
    } catch (RejectedExecutionException stopped) {
      scheduledInLane.remove(tenant);
    }
  }

  /**
   * Runs {@code task} in the tenant's lane. An Error that ends it is said and makes the service
   * {@link #wedged()}: nobody reads the lane's outcome, and the executor would swallow it.
   */
  private void inLane(String tenant, Runnable task) {
    inLanes.incrementAndGet();
    try {
      lanes.get(tenant).execute(() -> {
        try {
          task.run();
        } catch (Error e) {
          log.error("catalog sync of {} died", tenant, e);
          died = e;
        } finally {
          inLanes.decrementAndGet();
        }
      });
    } catch (RuntimeException notQueued) {
      inLanes.decrementAndGet();
      throw notQueued;
    }
  }

  /** Whether no sync waits in a lane or runs (retries still waiting do not count). */
  boolean idle() {
    return inLanes.get() == 0;
  }

  /**
   * A scheduled sync that found another sync of the tenant running (the one-shot job, another
   * instance, a lease this instance's previous run left) is tried again once that lease would have
   * run out, not a whole interval later; one that failed (the store, the broker, the feed host's
   * outage: a retry may succeed) after a {@link RetryBackoff} delay. A refused feed waits for the
   * next interval: retried sooner, it would only be refused again, and dead-lettered again.
   */
  private void syncScheduled(FeedLocation source) {
    long started = System.nanoTime();
    SyncReport report = syncOne(source);
    if (report.status() == SyncReport.Status.BUSY) {
      retryLater(source, busyRetry);
    } else if (report.status() == SyncReport.Status.FAILED) {
      Optional<Duration> delay = failedRetry.failed(source.tenant(), Duration.ofNanos(System.nanoTime() - started));
      if (delay.isPresent()) {
        log.info("catalog sync of {} failed {} time(s) in a row; trying again in {}", source.tenant(),
            failedRetry.failures(source.tenant()), delay.get());
        retryLater(source, delay.get());
      }
    }
  }

  /**
   * Queues the tenant's scheduled sync again after {@code delay}, in its lane like the others: it
   * waits for an on-demand sync of the tenant queued before it, and for a thread.
   */
  private void retryLater(FeedLocation source, Duration delay) {
    ScheduledExecutorService w = worker;
    if (w != null && !w.isShutdown()) {
      retries.put(source.tenant(), System.nanoTime() + delay.toNanos());
      try {
        w.schedule(() -> {
          retries.remove(source.tenant());
          queueScheduled(source);
        }, delay.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException stopping) {
        // the service stopped since the check: no sync starts while stopping
        retries.remove(source.tenant());
      }
    }
  }

  private SyncReport syncOne(FeedLocation source) {
    running.add(source.tenant());
    try {
      SyncReport r = sync.run(source, n -> { });
      last.put(source.tenant(), r);
      failing.remove(source.tenant());
      if (r.status() != SyncReport.Status.BUSY && r.status() != SyncReport.Status.FAILED) {
        // Applied, unchanged or refused: whatever failed the earlier syncs is over.
        failedRetry.reset(source.tenant());
      }
      return r;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return SyncReport.failed(source.tenant(), source.display(), SyncReport.Status.FAILED, "interrupted");
    } catch (Exception e) {
      failing.put(source.tenant(), e);
      log.warn("catalog sync of {} failed: {}", source.tenant(), e.toString());
      SyncReport r = SyncReport.failed(source.tenant(), source.display(), SyncReport.Status.FAILED, e.toString());
      last.put(source.tenant(), r);
      return r;
    } finally {
      running.remove(source.tenant());
    }
  }

  /** The tenant's feed source (one per tenant: CATALOG_SOURCES refuses a second). */
  Optional<FeedLocation> source(String tenant) {
    return sources.stream().filter(s -> s.tenant().equals(tenant)).findFirst();
  }

  /**
   * Queues a sync of the tenant's feed in its lane, or joins the one already waiting there;
   * completes with its report. Never blocks: the caller decides how long to wait.
   *
   * @throws IllegalArgumentException when no source is configured for the tenant
   * @throws RejectedExecutionException when the scheduler is not running
   */
  CompletableFuture<SyncReport> request(String tenant) {
    FeedLocation source = source(tenant)
        .orElseThrow(() -> new IllegalArgumentException("no feed source configured for tenant '" + tenant + "'"));
    ScheduledExecutorService w = worker;
    if (w == null) {
      throw new RejectedExecutionException("the sync scheduler has not started");
    }
    return queued.computeIfAbsent(tenant, t -> {
      CompletableFuture<SyncReport> done = new CompletableFuture<>();
      inLane(t, () -> {
        // Started: a request from now on queues a new sync, which will see a feed changed after
        // this one's download.
        queued.remove(t, done);
        if (stopping) {
          // Queued behind a sync in hand when the stop came: run now, each would hold the stop
          // for a whole sync.
          done.completeExceptionally(new CancellationException("the catalog-downloader stopped before this sync started"));
          return;
        }
        try {
          SyncReport report = syncOne(source);
          if (stopping && Thread.currentThread().isInterrupted()) {
            done.completeExceptionally(new CancellationException("the catalog-downloader stopped before this sync ended"));
          } else {
            done.complete(report);
          }
        } catch (RuntimeException | Error e) {
          done.completeExceptionally(e);
          throw e;
        }
      });
      return done;
    });
  }

  /** Whether a sync of the tenant is waiting or running, and its last report on this instance. */
  SyncStatus status(String tenant) {
    return new SyncStatus(tenant, queued.containsKey(tenant), running.contains(tenant), last.get(tenant));
  }

  /** How long until the retry of the tenant's busy or failed scheduled sync, while one waits. */
  Optional<Duration> retryWaiting(String tenant) {
    Long due = retries.get(tenant);
    return due == null ? Optional.empty() : Optional.of(Duration.ofNanos(Math.max(0, due - System.nanoTime())));
  }

  /**
   * A sync ended by an Error (a feed nested past the stack, the heap exhausted) left its tenant's
   * schedule with nothing queued, and the JVM not to be trusted; the executor never runs a periodic
   * pass again once it threw. On-demand syncs would still work and hide either, until a restart.
   */
  @Override
  public String wedged() {
    String ended = PeriodicTaskEnd.of(schedule, "the scheduled syncs");
    Throwable d = died;
    return ended != null || d == null ? ended : "a catalog sync died: " + d;
  }

  @Override
  public CheckResult check() {
    ScheduledExecutorService w = worker;
    if (w == null || w.isShutdown()) {
      return CheckResult.failed("not running");
    }
    String ended = wedged();
    if (ended != null) {
      return CheckResult.failed(ended);
    }
    // A failing feed source is the retailer's problem to fix; the service itself stays ready. Per
    // tenant: with syncs side by side, one tenant's success cleared another's failure from view.
    if (failing.isEmpty()) {
      return CheckResult.OK;
    }
    java.util.TreeMap<String, Throwable> sorted = new java.util.TreeMap<>(failing);
    Map.Entry<String, Throwable> first = sorted.firstEntry();
    return new CheckResult(true, "last sync failed for " + sorted.size() + " tenant(s): " + first.getKey() + ": "
        + first.getValue().getMessage() + (sorted.size() > 1 ? " (and " + sorted.keySet().stream().skip(1)
            .limit(10).collect(java.util.stream.Collectors.joining(", ")) + (sorted.size() > 11 ? ", ..." : "") + ")"
            : ""));
  }

  @Override
  public void close() {
    stopping = true;
    ScheduledExecutorService w = worker;
    if (w != null) {
      w.shutdown();
      try {
        long waitMs = Math.max(0, Math.min(60_000, drainLimit.get().toMillis()));
        if (!w.awaitTermination(waitMs, TimeUnit.MILLISECONDS)) {
          w.shutdownNow();
          // The interrupted syncs' requests are answered by the endpoint, closed next.
          w.awaitTermination(2, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        w.shutdownNow();
        Thread.currentThread().interrupt();
      } finally {
        // Requests whose lane the stop dropped before it ran: shutdownNow() discards them unrun,
        // and their futures would never complete.
        queued.forEach((tenant, waiting) -> waiting.completeExceptionally(
            new CancellationException("the catalog-downloader stopped before this sync started")));
        queued.clear();
      }
    }
  }
}
