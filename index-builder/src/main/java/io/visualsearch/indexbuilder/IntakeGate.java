package io.visualsearch.indexbuilder;

import io.visualsearch.pipeline.ConsumerLoop;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which due builds the embeddings intake lets run. A build publishes a whole tenant from this
 * instance's memory, which only the intake keeps current, so:
 * <ul>
 *   <li>while the loop owns fewer partitions than the topic has, none included, nothing runs: a
 *       second instance in the group (scaled up by mistake, a zombie pod) has the others, and each
 *       would publish versions missing the other's changes, deletes included; the tickets stay due;
 *   <li>when it owns them all again, the partitions handed back resume at the other member's
 *       commits: if it handled records this instance never applied (a tombstone among them), the
 *       memory lacks them for good and the next manifest would claim to cover them. The service
 *       then stops (a failed component), and its restart replays the topic; otherwise builds go
 *       on. {@link #observe} watches for this on its own thread, as a round of builds can take
 *       minutes, long enough for another member to come and go unseen by the build thread. The
 *       group's commits are read there only, outside any lock the readiness check or the build
 *       thread takes (a lookup against a troubled broker takes up to a minute), and a failed
 *       lookup is tried again after a backoff, not at every tick;
 *   <li>before the loop's first assignment only start-up checks run: the catalog is the replay's,
 *       current as of the start, and a restarted instance waits for its dead predecessor's session
 *       to expire before it is assigned anything, so those checks are what it has to offer
 *       meanwhile. A periodic rebuild then would publish that frozen catalog over whatever the
 *       instance owning the partitions published since; it waits for the assignment;
 *   <li>the first assignment is checked as a hand-back is: while this instance replayed, the one
 *       it replaces (still running on a node that lost its kubelet) may have handled and committed
 *       records past the replay's ends, and the loop would resume at those commits with all
 *       partitions at once, never seeing the group shared.
 * </ul>
 */
final class IntakeGate {

  private static final Logger log = LoggerFactory.getLogger(IntakeGate.class);
  private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  private static final Duration MAX_RETRY = Duration.ofSeconds(30);

  /**
   * Shared since the last check of what came back. A new one each time sharing is seen, so a
   * lookup begun before it can tell its commits may predate the other member's.
   *
   * @param failure why the last lookup of the group's commits failed, null before the first
   * @param retryAtMs no lookup before this
   */
  private record Watch(String failure, long retryAtMs, Duration backoff, boolean atStart) {

    static Watch sinceStart() {
      return new Watch(null, Long.MIN_VALUE, FIRST_RETRY, true);
    }

    static Watch sinceShared() {
      return new Watch(null, Long.MIN_VALUE, FIRST_RETRY, false);
    }

    Watch failed(String why, long nowMs) {
      return new Watch(why, nowMs + backoff.toMillis(), min(backoff.multipliedBy(2), MAX_RETRY), atStart);
    }

    /** What the watch looks at, for logs and the hold reason. */
    String what() {
      return atStart
          ? "embeddings partitions were first assigned after the start-up replay"
          : "embeddings partitions came back from another member of the group";
    }

    private static Duration min(Duration a, Duration b) {
      return a.compareTo(b) <= 0 ? a : b;
    }
  }

  private final Supplier<ConsumerLoop> intake;
  private final Catalogs catalogs;
  private final GroupOffsets offsets;
  private final Clock clock;
  private final Consumer<IllegalStateException> stop;
  /**
   * Null while not watching. Replaced under this object's monitor, which no lookup holds. Begins
   * watching: the replay's ends are checked against the group's commits at the first assignment.
   */
  private volatile Watch watch = Watch.sinceStart();
  private volatile String stopping;

  /**
   * @param intake the embeddings loop, null until wired (then every build runs)
   * @param clock paces the retries of failed lookups of the group's commits
   * @param stop stops the service, with why
   */
  IntakeGate(Supplier<ConsumerLoop> intake, Catalogs catalogs, GroupOffsets offsets, Clock clock,
      Consumer<IllegalStateException> stop) {
    this.intake = intake;
    this.catalogs = catalogs;
    this.offsets = offsets;
    this.clock = clock;
    this.stop = stop;
  }

  /** Follows the group, on the watch thread: called every few hundred milliseconds. */
  void observe() {
    ConsumerLoop loop = intake.get();
    if (loop == null || stopping != null || noteSharing(loop) || !loop.assignedOnce()) {
      return;
    }
    Watch w = watch;
    if (w == null || clock.millis() < w.retryAtMs()) {
      return;
    }
    Map<Integer, Long> committed;
    try {
      committed = offsets.committed();
    } catch (RuntimeException e) {
      // Builds stay held until it can be told whether the other member left records unapplied.
      Watch failed = w.failed(e.getClass().getSimpleName() + ": " + e.getMessage(), clock.millis());
      synchronized (this) {
        if (watch == w) {
          watch = failed;
        }
      }
      log.warn("{}; cannot read the group's commits yet, trying again in {}: {}", w.what(), w.backoff(),
          failed.failure());
      return;
    }
    Map<Integer, String> skipped;
    synchronized (this) {
      if (watch != w || loop.sharesItsGroup()) {
        return; // shared again meanwhile: the next look waits for the group to settle and reads anew
      }
      watch = null;
      skipped = catalogs.endWatch(committed);
      if (!skipped.isEmpty()) {
        stopping = w.what() + ", and another member handled records this instance never applied " + skipped
            + "; stopping so that the restart replays the topic";
      }
    }
    if (skipped.isEmpty()) {
      log.info("{}; no other member left a record unapplied here", w.what());
      return;
    }
    stop.accept(new IllegalStateException(stopping));
  }

  /** Whether the group is shared now; if so, (re)starts the watch. Never waits on the broker. */
  private boolean noteSharing(ConsumerLoop loop) {
    if (!loop.sharesItsGroup()) {
      return false;
    }
    synchronized (this) {
      catalogs.watchForSkips();
      watch = Watch.sinceShared();
    }
    return true;
  }

  /**
   * Whether {@code ticket} may run now; one that may not stays due. Sees sharing itself (a build
   * must not start on a share the watch thread has not noticed yet) but leaves the lookup of what
   * came back to the watch thread.
   */
  boolean admits(RebuildSchedule.Ticket ticket) {
    ConsumerLoop loop = intake.get();
    if (loop == null) {
      return true;
    }
    if (stopping != null || noteSharing(loop)) {
      return false;
    }
    if (!loop.assignedOnce()) {
      return ticket.trigger() == RebuildSchedule.Trigger.STARTUP;
    }
    return watch == null;
  }

  /** Why builds wait whatever is due, or null. Never waits on the broker: the readiness check asks. */
  String holdReason() {
    String s = stopping;
    if (s != null) {
      return s;
    }
    ConsumerLoop loop = intake.get();
    if (loop != null && loop.sharesItsGroup()) {
      return "builds wait: this instance owns " + loop.ownership() + " embeddings partitions, so another"
          + " index-builder shares its consumer group; run exactly one";
    }
    Watch w = watch;
    if (w != null && loop != null && loop.assignedOnce()) {
      return "builds wait: " + w.what() + ", and whether another member left records unapplied here cannot be"
          + " told yet: " + (w.failure() == null ? "reading the group's commits" : w.failure());
    }
    return null;
  }
}
