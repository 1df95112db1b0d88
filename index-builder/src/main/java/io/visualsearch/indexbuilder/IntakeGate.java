package io.visualsearch.indexbuilder;

import io.visualsearch.pipeline.ConsumerLoop;
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
 *       minutes, long enough for another member to come and go unseen by the build thread;
 *   <li>before the loop's first assignment only start-up checks run: the catalog is the replay's,
 *       current as of the start, and a restarted instance waits for its dead predecessor's session
 *       to expire before it is assigned anything, so those checks are what it has to offer
 *       meanwhile. A periodic rebuild then would publish that frozen catalog over whatever the
 *       instance owning the partitions published since; it waits for the assignment.
 * </ul>
 */
final class IntakeGate {

  private static final Logger log = LoggerFactory.getLogger(IntakeGate.class);

  private final Supplier<ConsumerLoop> intake;
  private final Catalogs catalogs;
  private final GroupOffsets offsets;
  private final Consumer<IllegalStateException> stop;
  /** Shared since the last check of what came back (or that check could not be made yet). */
  private boolean watching;
  private String uncheckable;
  private volatile String stopping;

  /**
   * @param intake the embeddings loop, null until wired (then every build runs)
   * @param stop stops the service, with why
   */
  IntakeGate(Supplier<ConsumerLoop> intake, Catalogs catalogs, GroupOffsets offsets,
      Consumer<IllegalStateException> stop) {
    this.intake = intake;
    this.catalogs = catalogs;
    this.offsets = offsets;
    this.stop = stop;
  }

  /** Follows the group: called every few hundred milliseconds, and before each build. */
  synchronized void observe() {
    ConsumerLoop loop = intake.get();
    if (loop == null || stopping != null) {
      return;
    }
    if (loop.sharesItsGroup()) {
      if (!watching) {
        catalogs.watchForSkips();
        watching = true;
      }
      return;
    }
    if (!watching) {
      return;
    }
    Map<Integer, Long> committed;
    try {
      committed = offsets.committed();
    } catch (RuntimeException e) {
      // Builds stay held until it can be told whether the other member left records unapplied.
      uncheckable = e.getClass().getSimpleName() + ": " + e.getMessage();
      log.warn("embeddings partitions came back from another member; cannot read the group's commits yet: {}",
          uncheckable);
      return;
    }
    watching = false;
    uncheckable = null;
    Map<Integer, String> skipped = catalogs.endWatch(committed);
    if (skipped.isEmpty()) {
      log.info("embeddings partitions came back from another member of the group, which left no record unapplied here");
      return;
    }
    stopping = "embeddings partitions came back from another member of the group, which handled records this"
        + " instance never applied " + skipped + "; stopping so that the restart replays the topic";
    stop.accept(new IllegalStateException(stopping));
  }

  /** Whether {@code ticket} may run now; one that may not stays due. */
  boolean admits(RebuildSchedule.Ticket ticket) {
    ConsumerLoop loop = intake.get();
    if (loop == null) {
      return true;
    }
    observe();
    synchronized (this) {
      if (watching || stopping != null) {
        return false;
      }
    }
    return ticket.trigger() == RebuildSchedule.Trigger.STARTUP || loop.assignedOnce();
  }

  /** Why builds wait whatever is due, or null. */
  synchronized String holdReason() {
    if (stopping != null) {
      return stopping;
    }
    ConsumerLoop loop = intake.get();
    if (loop != null && loop.sharesItsGroup()) {
      return "builds wait: this instance owns " + loop.ownership() + " embeddings partitions, so another"
          + " index-builder shares its consumer group; run exactly one";
    }
    if (watching) {
      return "builds wait: embeddings partitions came back from another member of the group, and whether it left"
          + " records unapplied here cannot be told yet: " + uncheckable;
    }
    return null;
  }
}
