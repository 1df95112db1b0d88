package io.visualsearch.indexbuilder;

import io.visualsearch.objectstore.ObjectStoreException;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.PeriodicTaskEnd;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The build thread: a few times a second it asks the {@link RebuildSchedule} which tenants are
 * due and builds them one after the other. One thread on purpose: FAISS parallelises a build
 * itself, and tenants built one at a time bound the builder's memory to one tenant's shards.
 * A failed build never stops the thread; the tenant is retried after a backoff, and the state it
 * builds from stays in memory, so nothing is lost while the object store is down. Announcements
 * that failed are sent again from here too, before the builds of each tick.
 */
final class BuildScheduler implements Component {

  private static final Logger log = LoggerFactory.getLogger(BuildScheduler.class);
  private static final long TICK_MS = 200;

  private final RebuildSchedule schedule;
  private final TenantBuild build;
  private final ShardBuilder shards;
  private final BuildMetrics metrics;
  private final Clock clock;
  private final Duration shutdownTimeout;
  private final IntakeGate intake;
  private final Map<String, String> failing = new ConcurrentHashMap<>();
  private ScheduledExecutorService thread;
  private ScheduledExecutorService watch;
  private volatile ScheduledFuture<?> ticks;
  private volatile ScheduledFuture<?> watching;

  /**
   * @param intake what the embeddings loop lets run ({@link IntakeGate}): builds wait while it owns
   *     fewer partitions than the topic has, and only start-up checks run before its first assignment
   */
  BuildScheduler(RebuildSchedule schedule, TenantBuild build, ShardBuilder shards, BuildMetrics metrics, Clock clock,
      Duration shutdownTimeout, IntakeGate intake) {
    this.intake = intake;
    this.schedule = schedule;
    this.build = build;
    this.shards = shards;
    this.metrics = metrics;
    this.clock = clock;
    this.shutdownTimeout = shutdownTimeout;
  }

  @Override
  public String name() {
    return "index-builds";
  }

  @Override
  public void start() {
    shards.ensureNativeLoaded();
    thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "index-builder-builds");
      t.setDaemon(false);
      return t;
    });
    ticks = thread.scheduleWithFixedDelay(this::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    // Its own thread: a build of minutes must not hide another member coming and going.
    watch = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "index-builder-group-watch");
      t.setDaemon(true);
      return t;
    });
    watching = watch.scheduleWithFixedDelay(this::watchGroup, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
  }

  private void watchGroup() {
    try {
      intake.observe();
    } catch (RuntimeException e) {
      log.error("group watch failed", e);
    }
  }

  private void tick() {
    try {
      // Before the group check: these versions are CURRENT already, whoever else is building.
      build.announcements().retryDue();
      for (RebuildSchedule.Ticket ticket : schedule.due(clock.millis())) {
        if (thread.isShutdown()) {
          return;
        }
        if (intake.admits(ticket)) {
          runOne(ticket);
        }
      }
    } catch (RuntimeException e) {
      // A tick that throws would cancel all later ones; log and carry on at the next tick.
      log.error("build tick failed", e);
    }
  }

  private void runOne(RebuildSchedule.Ticket ticket) {
    schedule.started(ticket, clock.millis());
    try {
      TenantBuild.Result r = build.run(ticket);
      metrics.attempt(r.outcome());
      failing.remove(ticket.tenant());
      schedule.ended(ticket, r.outcome(), clock.millis(), r.recheckAtMs());
    } catch (Throwable e) {
      // Throwable: an Error escaping here would silently cancel every future tick.
      metrics.attempt(BuildMetrics.Outcome.FAILED);
      long backoff = schedule.failed(ticket, clock.millis());
      failing.put(ticket.tenant(), e.getClass().getSimpleName() + ": " + e.getMessage());
      if (e instanceof ObjectStoreException || e instanceof SkuIdCollisionException) {
        // Expected kinds of failure: the message says it all.
        log.warn("tenant {}: build failed, retrying in {} ms: {}", ticket.tenant(), backoff, e.getMessage());
      } else {
        log.error("tenant {}: build failed, retrying in {} ms", ticket.tenant(), backoff, e);
      }
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Ready while the thread runs; failing tenants, and announcements pending for minutes, are
   * reported but do not make the service unready: search-api still finds an unannounced version
   * through CURRENT, and an unready builder would publish nothing more.
   */
  /** A periodic task an Error ended: nothing builds, or watches the group, until a restart. */
  @Override
  public String wedged() {
    String dead = PeriodicTaskEnd.of(ticks, "the build thread");
    return dead != null ? dead : PeriodicTaskEnd.of(watching, "the group watch");
  }

  @Override
  public CheckResult check() {
    if (thread == null || thread.isShutdown()) {
      return CheckResult.failed("not running");
    }
    String dead = wedged();
    if (dead != null) {
      return CheckResult.failed(dead);
    }
    String held = intake.holdReason();
    if (held != null) {
      return CheckResult.failed(held);
    }
    List<String> problems = new ArrayList<>();
    if (!failing.isEmpty()) {
      problems.add("builds failing for " + failing);
    }
    String overdue = build.announcements().overdue();
    if (!overdue.isEmpty()) {
      problems.add("published but not announced on index.published: " + overdue);
    }
    return problems.isEmpty() ? CheckResult.OK : new CheckResult(true, String.join("; ", problems));
  }

  @Override
  public void close() {
    if (thread == null) {
      return;
    }
    Map<String, String> unannounced = build.announcements().versions();
    if (!unannounced.isEmpty()) {
      log.warn("stopping with announcements not yet acknowledged {}; the next start announces those the topic"
          + " lacks", unannounced);
    }
    watch.shutdownNow();
    thread.shutdown();
    try {
      if (!thread.awaitTermination(shutdownTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("a build was still running after {}; abandoning it (the next start rebuilds)", shutdownTimeout);
        thread.shutdownNow();
      }
    } catch (InterruptedException e) {
      thread.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
