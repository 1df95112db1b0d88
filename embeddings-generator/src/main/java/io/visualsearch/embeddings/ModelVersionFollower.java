package io.visualsearch.embeddings;

import io.visualsearch.modelclient.ModelUnavailableException;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.PeriodicTaskEnd;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one consumer loop for the newest served model version, in the consumer group the
 * deployment's {@link FollowedVersion} names for it. A new version's group starts from the
 * beginning of the compacted images.ready topic and re-embeds the whole catalog; so does a version
 * followed again after another one (a rollback), in a group of its own, or the products not
 * changed since would keep the withdrawn version's vectors for good. A restart resumes the
 * recorded group. After an upgrade the previous version's loop keeps running in its own group until
 * the new version's replay has reached the end images.ready had at the switch ({@link Handover}),
 * so the catalog's changes meanwhile are embedded with the version still served within seconds,
 * not after the whole catalog; after a rollback (the version withdrawn, or no longer the default)
 * it stops at once. The index-builder keeps the versions apart.
 *
 * <p>Before a loop is started for a version, the version embeds a probe image: a version that
 * refuses the generator's signature, input or output would have every catalog image
 * dead-lettered, so the current loop keeps running and the check fails until it accepts.
 */
final class ModelVersionFollower implements Component {

  private static final Logger log = LoggerFactory.getLogger(ModelVersionFollower.class);

  /** The newest version the model server serves (ModelClient.servedVersion). */
  interface ServedVersion {
    OptionalLong get() throws ModelUnavailableException;
  }

  /**
   * A consumer loop embedding images.ready with {@code version} in consumer group {@code group},
   * handling a record only once {@code gate} lets it, telling {@code notServed} when the model
   * server answers that the version is not served.
   */
  interface LoopFactory {
    Component loop(long version, String group, EmbedImageHandler.Gate gate, Runnable notServed);
  }

  /** What the broker knows of images.ready and of the consumer groups reading it. */
  interface GroupProgress extends AutoCloseable {
    /** Per partition of images.ready, the offset of the next record written. */
    Map<Integer, Long> endOffsets();

    /** Per partition of images.ready, the offset {@code group} committed (absent: none). */
    Map<Integer, Long> committed(String group);

    /** Whether any consumer, on any instance, is a member of {@code group}. */
    boolean hasMembers(String group);

    @Override
    default void close() {}
  }

  private final String modelName;
  private final ServedVersion served;
  private final VersionProbe probe;
  private final FollowedVersionStore followed;
  private final Supplier<Collection<String>> existingGroups;
  private final LoopFactory loops;
  private final GroupProgress progress;
  private final String groupBase;
  private final Duration interval;
  private ScheduledExecutorService timer;
  private volatile Component current;
  private volatile ScheduledFuture<?> polling;
  /** The previous version's loop during a rollout (null: none). */
  private volatile Handover handover;
  private volatile FollowedVersion following;
  private volatile String waiting = "model server not asked yet";
  /** Why the version this instance embeds with is no longer served (null: it is, as far as known). */
  private volatile String notServed;
  /** Why the newest served version is not followed: it refused the probe (null: none did). */
  private volatile String refused;
  /** The newest served version is not followed yet: its probe got no answer (null: none pending). */
  private volatile String pending;
  /** The last failure of a poll, logged with its stack once (an object store down fails every poll). */
  private String lastFailure;

  /**
   * @param existingGroups consumer group ids on the broker, asked only when no record exists yet
   * @param groupBase group ids are {@code <groupBase>.v<version>[.replay-<k>]}
   */
  ModelVersionFollower(String modelName, ServedVersion served, VersionProbe probe, FollowedVersionStore followed,
      Supplier<Collection<String>> existingGroups, LoopFactory loops, GroupProgress progress, String groupBase,
      Duration interval) {
    this.modelName = modelName;
    this.served = served;
    this.probe = probe;
    this.followed = followed;
    this.existingGroups = existingGroups;
    this.loops = loops;
    this.progress = progress;
    this.groupBase = groupBase;
    this.interval = interval;
  }

  @Override
  public String name() {
    return "model-version-follower";
  }

  @Override
  public void start() {
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "model-version-follower");
      t.setDaemon(true);
      return t;
    });
    polling = timer.scheduleWithFixedDelay(this::poll, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * The version's loop stuck for good (the model server's call without an end, say), or the poll
   * of versions ended by an Error: the loops are this component's, not the host's, so it answers
   * for them; only a restart helps either. The previous version's loop in a rollout is stopped by
   * {@link #handOver} once its check fails.
   */
  @Override
  public String wedged() {
    Component loop = current;
    String stuck = loop == null ? null : loop.wedged();
    return stuck != null ? stuck : pollEnded();
  }

  /** Why the poll of versions stopped (an Error ended it), or null while it runs. */
  private String pollEnded() {
    return PeriodicTaskEnd.of(polling, "the model version poll");
  }

  void poll() {
    handOver();
    try {
      OptionalLong newest = served.get();
      FollowedVersion now = following;
      if (newest.isEmpty()) {
        String why = "model " + modelName + " has no available version";
        notServed = now == null ? null : "model version " + now.version() + " is not served any more: " + why;
        waitFor(why);
        return;
      }
      waiting = null;
      long v = newest.getAsLong();
      notServed = now != null && v < now.version()
          ? "model version " + now.version() + " is not served any more (the newest served is " + v + ")" : null;
      follow(v);
      lastFailure = null;
    } catch (ModelUnavailableException e) {
      // Whether the followed version is still served is unknown; the model client's check shows the outage.
      waitFor(e.getMessage());
    } catch (Throwable e) {
      // A scheduled task that throws is never run again: report and keep following.
      String why = "cannot follow model versions: " + e;
      if (!why.equals(lastFailure)) {
        log.warn("model version check failed", e);
      }
      lastFailure = why;
      waitFor(why);
    }
  }

  /** Makes this instance embed with {@code v} in the group the deployment's record names for it. */
  private void follow(long v) throws ModelUnavailableException {
    FollowedVersion now = following;
    if (now != null && now.version() == v) {
      refused = null;
      pending = null;
      FollowedVersion recorded = followed.read().followed();
      if (recorded != null && recorded.version() == v && !recorded.group().equals(now.group())) {
        // Another instance started a replay of this version (this one never saw the version it
        // replaced): join it, or this instance would go on resuming the old group alone.
        switchTo(recorded, now);
      }
      return;
    }
    VersionProbe.Result r = probe.probe(v);
    switch (r.outcome()) {
      case REFUSED -> {
        String why = "version " + v + " refuses the generator's signature/input/output: " + r.reason();
        if (!why.equals(refused)) {
          log.warn("{}; {}", why, now == null ? "nothing is embedded until it accepts"
              : "still embedding with version " + now.version());
        }
        refused = why;
        pending = null;
        return;
      }
      case NOT_READY -> {
        refused = null;
        pending = "version " + v + " did not answer the probe yet: " + r.reason();
        return;
      }
      case ACCEPTED -> {
        refused = null;
        pending = null;
      }
    }
    FollowedVersion next = record(v);
    if (next != null) {
      switchTo(next, now);
    }
  }

  private void switchTo(FollowedVersion next, FollowedVersion now) {
    log.info("model {} version {} is served (was {}): embedding the catalog with it in consumer group {}{}",
        modelName, next.version(), now == null ? "none" : now.version(), next.group(),
        next.replay() ? ", a group of its own that starts from the beginning of images.ready" : "");
    Component previous = current;
    Handover keep = previous != null && now != null && next.version() > now.version() ? handoverFrom(now, previous)
        : previous == null ? awaitingOthers(next) : null;
    Component loop = loops.loop(next.version(), next.group(), keep == null ? EmbedImageHandler.Gate.OPEN : keep,
        () -> versionNotServed(next.version()));
    try {
      loop.start();
    } catch (Exception e) {
      loop.close();
      throw new IllegalStateException("cannot start the consumer loop of version " + next.version() + ": "
          + e.getMessage(), e);
    }
    Handover older = handover;
    current = loop;
    handover = keep;
    following = next;
    notServed = null;
    // A third version during a rollout, or a rollback: the version before is not served any more,
    // or is not to be embedded with any more. Its loop stops, and no longer holds back the loop it
    // was handing over to (now the previous one, or closed), which would otherwise stop at the end
    // of the topic and hold the new replay behind it for good.
    if (older != null) {
      older.closePrevious();
      older.open();
    }
    if (previous != null && keep == null) {
      previous.close();
    }
  }

  /**
   * The previous version's loop kept running after an upgrade, or null to stop it at once: the
   * topic is empty, or the broker cannot tell where the replay must get to (then the catalog's
   * changes wait for the replay, as they would without a handover).
   */
  private Handover handoverFrom(FollowedVersion now, Component previous) {
    try {
      Map<Integer, Long> ends = progress.endOffsets();
      if (ends.values().stream().allMatch(o -> o == 0)) {
        return null;
      }
      Handover h = new Handover(now.version(), now.group(), previous, ends, progress.committed(now.group()));
      log.info("version {} keeps embedding the catalog's changes in group {} until the replay reaches offsets {}",
          now.version(), now.group(), ends);
      return h;
    } catch (RuntimeException e) {
      log.warn("version {}'s loop stops now, not after the replay: {}", now.version(), e.getMessage());
      return null;
    }
  }

  /**
   * On start-up mid-rollout, the gate that holds this instance's replay behind the previous
   * version's loops still running on other instances, or null when none does. This instance does
   * not start such a loop itself: its group would resume where it stopped and could write a
   * previous-version vector after the replay's one. When the broker cannot tell, the replay waits
   * for the next poll to ask again.
   */
  private Handover awaitingOthers(FollowedVersion next) {
    FollowedVersion.Previous from = next.upgradedFrom();
    if (from == null) {
      return null;
    }
    try {
      if (!progress.hasMembers(from.group())) {
        return null;
      }
      log.info("version {}'s loops on other instances (group {}) still embed the catalog's changes: this replay"
          + " follows their commits", from.version(), from.group());
      return Handover.awaiting(from.version(), from.group(), progress.committed(from.group()));
    } catch (RuntimeException e) {
      log.warn("cannot tell whether version {}'s loops still run (group {}); asking again at the next poll: {}",
          from.version(), from.group(), e.getMessage());
      return Handover.awaiting(from.version(), from.group(), Map.of());
    }
  }

  private void versionNotServed(long version) {
    Handover h = handover;
    if (h != null && h.previousVersion == version) {
      h.previousNotServed();
    }
  }

  /**
   * Stops the previous version's loop once the replay has reached the end offsets of the switch,
   * or at once when its version is no longer served or its loop fails; then lets the replay past
   * the previous group's offsets once no instance has a loop in that group any more.
   */
  private void handOver() {
    Handover h = handover;
    if (h == null) {
      return;
    }
    try {
      if (h.previousRunning()) {
        CheckResult previousCheck = h.previousLoop().check();
        String why = h.isPreviousNotServed() ? "version " + h.previousVersion + " is not served any more"
            : !previousCheck.ok() ? "its loop fails: " + previousCheck.detail()
            : h.replayCaughtUp(progress.committed(following.group())) ? "the replay reached offsets " + h.replayUntil
            : null;
        if (why == null) {
          h.previousCommitted(progress.committed(h.previousGroup));
          return;
        }
        log.info("version {}'s loop (group {}) stops: {}", h.previousVersion, h.previousGroup, why);
        h.closePrevious();
      }
      if (progress.hasMembers(h.previousGroup)) {
        // Another instance's loop of that version still embeds: keep following its offsets.
        h.previousCommitted(progress.committed(h.previousGroup));
        return;
      }
      h.open();
      if (handover == h) {
        handover = null;
      }
    } catch (RuntimeException e) {
      // Asked again at the next poll; meanwhile the replay waits for offsets it cannot read.
      log.warn("cannot tell how far version {}'s hand-over has come: {}", h.previousVersion, e.getMessage());
    }
  }

  /**
   * The deployment's record for {@code v}, written first if it names another version: a restart,
   * or another instance, then joins the same group instead of starting the replay over or
   * resuming the version's old group. Written before the loop starts, so a crash in between
   * leaves a group that has committed nothing and starts from the beginning again. Null when
   * {@code v} turned out to be a stale view.
   */
  private FollowedVersion record(long v) throws ModelUnavailableException {
    for (int attempt = 0; ; attempt++) {
      FollowedVersionStore.Read read = followed.read();
      FollowedVersion recorded = read.followed();
      if (recorded != null && v < recorded.version()) {
        // A step back. The recorded version was served when it was written, after this poll may
        // have asked the server: ask again, so an instance that saw the newer version a moment
        // late does not record a rollback and send the deployment into a needless replay.
        OptionalLong again = served.get();
        if (again.isEmpty() || again.getAsLong() != v) {
          return null;
        }
      }
      FollowedVersion next = recorded == null
          ? FollowedVersion.first(v, groupBase, existingGroups.get())
          : recorded.switchTo(v, groupBase);
      if (next.equals(recorded) || followed.replace(next, read)) {
        return next;
      }
      if (attempt == 5) {
        throw new IllegalStateException("the followed-version record keeps changing under this instance");
      }
      // Another instance switched first: follow what it recorded.
    }
  }

  private void waitFor(String reason) {
    if (!reason.equals(waiting)) {
      log.info("waiting for the model server: {}", reason);
    }
    waiting = reason;
  }

  /** The version this instance embeds with, -1 before the first. */
  long version() {
    FollowedVersion f = following;
    return f == null ? -1 : f.version();
  }

  /** The consumer group of the version this instance embeds with, null before the first. */
  String group() {
    FollowedVersion f = following;
    return f == null ? null : f.group();
  }

  @Override
  public CheckResult check() {
    String ended = pollEnded();
    if (ended != null) {
      return CheckResult.failed(ended);
    }
    Component loop = current;
    FollowedVersion f = following;
    String refusal = refused;
    if (loop == null || f == null) {
      String why = refusal != null ? refusal : pending != null ? pending : waiting;
      return CheckResult.failed(why == null ? "no model version yet" : why);
    }
    if (refusal != null) {
      return CheckResult.failed(refusal + "; still embedding with version " + f.version());
    }
    String gone = notServed;
    if (gone != null) {
      String p = pending;
      return CheckResult.failed(gone + (p == null ? "" : "; " + p));
    }
    CheckResult r = loop.check();
    if (!r.ok()) {
      return r;
    }
    String p = pending;
    Handover h = handover;
    return new CheckResult(true, "embedding with model version " + f.version() + " in consumer group " + f.group()
        + (h != null && h.previousRunning() ? "; version " + h.previousVersion + " embeds the catalog's changes in "
            + h.previousGroup + " until this replay reaches offsets " + h.replayUntil
            : h != null ? "; this replay follows the commits of version " + h.previousVersion + "'s loops in "
            + h.previousGroup + " on other instances until they stop" : "")
        + (p == null ? "" : "; " + p));
  }

  @Override
  public void beginStop() {
    Handover h = handover;
    if (h != null) {
      h.beginStop();
    }
    Component loop = current;
    if (loop != null) {
      loop.beginStop();
    }
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
      try {
        timer.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    // Both stop taking records first, so they drain side by side.
    beginStop();
    Handover h = handover;
    if (h != null) {
      h.closePrevious();
    }
    Component loop = current;
    if (loop != null) {
      loop.close();
    }
    progress.close();
  }
}
