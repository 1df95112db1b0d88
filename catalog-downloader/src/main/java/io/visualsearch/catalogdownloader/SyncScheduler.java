package io.visualsearch.catalogdownloader;

import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.PeriodicTaskEnd;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Syncs every source on a schedule and on demand ({@link #request}, behind {@code POST /sync}).
 * Syncs run one at a time on one thread, so two syncs of a tenant never interleave their diffs.
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
  /** The periodic syncs; done only if one threw past {@link #syncOne} (an Error), which ends them for good. */
  private volatile ScheduledFuture<?> schedule;
  private volatile String running;
  private volatile Throwable lastFailure;
  /** An Error that ended a retried sync; the next syncs of the tenant would meet it again. */
  private volatile Throwable retryDied;
  private final Duration busyRetry;
  private final RetryBackoff failedRetry;
  /** Per tenant, the retry of a scheduled sync that found it busy or failed, while it waits (one at most). */
  private final Map<String, ScheduledFuture<?>> retries = new ConcurrentHashMap<>();
  private volatile boolean stopping;
  /** How long a stop waits for the sync in hand: what is left of the service's stop allowance. */
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
   * Bounds a stop's wait for the sync in hand by {@code timeLeft} (what is left of
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
    ScheduledThreadPoolExecutor w = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "catalog-sync");
      t.setDaemon(false);
      return t;
    });
    // A stop runs the sync in hand and on-demand ones already due, never a busy or failed tenant's
    // retry that is still waiting: it would start a whole sync (lease, feed download) while stopping.
    w.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    worker = w;
    if (!interval.isZero()) {
      schedule = worker.scheduleWithFixedDelay(this::syncAll, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void syncAll() {
    for (FeedLocation source : sources) {
      // A tenant busy or failing for longer than the interval already has its retry on the way:
      // another chain of retries each pass would sync it once per chain as soon as it is free.
      if (!retries.containsKey(source.tenant())) {
        syncScheduled(source);
      }
    }
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
   * Runs the tenant's scheduled sync again after {@code delay}, a task on the one worker thread
   * like the others: it waits for the sync in hand, and a pass or an on-demand sync due before it
   * runs first, so a pass waits at most for one sync of each tenant whose retry fell due first.
   */
  private void retryLater(FeedLocation source, Duration delay) {
    ScheduledExecutorService w = worker;
    if (w != null && !w.isShutdown()) {
      try {
        // Put before the retry can run: both run on the one worker thread, this one first.
        retries.put(source.tenant(), w.schedule(() -> {
          retries.remove(source.tenant());
          try {
            syncScheduled(source);
          } catch (Error e) {
            // A one-shot task's Error stays in a future nobody reads: said here, and wedged() as
            // the scheduled syncs ended by one are.
            log.error("catalog sync of {} died", source.tenant(), e);
            retryDied = e;
            throw e;
          }
        }, delay.toMillis(), TimeUnit.MILLISECONDS));
      } catch (RejectedExecutionException stopping) {
        // the service stopped since the check: no sync starts while stopping
      }
    }
  }

  private SyncReport syncOne(FeedLocation source) {
    running = source.tenant();
    try {
      SyncReport r = sync.run(source, n -> { });
      last.put(source.tenant(), r);
      lastFailure = null;
      if (r.status() != SyncReport.Status.BUSY && r.status() != SyncReport.Status.FAILED) {
        // Applied, unchanged or refused: whatever failed the earlier syncs is over.
        failedRetry.reset(source.tenant());
      }
      return r;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return SyncReport.failed(source.tenant(), source.display(), SyncReport.Status.FAILED, "interrupted");
    } catch (Exception e) {
      lastFailure = e;
      log.warn("catalog sync of {} failed: {}", source.tenant(), e.toString());
      SyncReport r = SyncReport.failed(source.tenant(), source.display(), SyncReport.Status.FAILED, e.toString());
      last.put(source.tenant(), r);
      return r;
    } finally {
      running = null;
    }
  }

  /** The tenant's feed source (one per tenant: CATALOG_SOURCES refuses a second). */
  Optional<FeedLocation> source(String tenant) {
    return sources.stream().filter(s -> s.tenant().equals(tenant)).findFirst();
  }

  /**
   * Queues a sync of the tenant's feed, or joins the one already waiting for the worker; completes
   * with its report. Never blocks: the caller decides how long to wait.
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
      w.execute(() -> {
        // Started: a request from now on queues a new sync, which will see a feed changed after
        // this one's download.
        queued.remove(t, done);
        if (stopping) {
          // Queued behind the sync in hand when the stop came: run now, each would hold the stop
          // for a whole sync, one tenant after another.
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
    return new SyncStatus(tenant, queued.containsKey(tenant), tenant.equals(running), last.get(tenant));
  }

  /** How long until the retry of the tenant's busy or failed scheduled sync, while one waits. */
  Optional<Duration> retryWaiting(String tenant) {
    ScheduledFuture<?> retry = retries.get(tenant);
    return retry == null ? Optional.empty() : Optional.of(Duration.ofMillis(retry.getDelay(TimeUnit.MILLISECONDS)));
  }

  /**
   * The executor never runs a periodic task again once it threw: every tenant's scheduled syncs
   * have stopped, though on-demand ones would still work and hide it, until a restart.
   */
  @Override
  public String wedged() {
    String ended = PeriodicTaskEnd.of(schedule, "the scheduled syncs");
    Throwable died = retryDied;
    return ended != null || died == null ? ended : "a retried sync died: " + died;
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
    Throwable f = lastFailure;
    // A failing feed source is the retailer's problem to fix; the service itself stays ready.
    return f == null ? CheckResult.OK : new CheckResult(true, "last sync failed: " + f.getMessage());
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
          // The interrupted sync's request is answered by the endpoint, closed next.
          w.awaitTermination(2, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        w.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }
}
