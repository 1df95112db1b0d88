package io.visualsearch.indexbuilder;

import io.visualsearch.pipeline.ConsumerLoop;
import java.util.function.Supplier;

/**
 * Which due builds the embeddings intake lets run. A build publishes a whole tenant from this
 * instance's memory, which only the intake keeps current, so:
 * <ul>
 *   <li>while the loop owns fewer partitions than the topic has, none included, nothing runs: a
 *       second instance in the group (scaled up by mistake, a zombie pod) has the others, and each
 *       would publish versions missing the other's changes, deletes included; the tickets stay due;
 *   <li>before the loop's first assignment only start-up checks run: the catalog is the replay's,
 *       current as of the start, and a restarted instance waits for its dead predecessor's session
 *       to expire before it is assigned anything, so those checks are what it has to offer
 *       meanwhile. A periodic rebuild then would publish that frozen catalog over whatever the
 *       instance owning the partitions published since; it waits for the assignment.
 * </ul>
 */
final class IntakeGate {

  private final Supplier<ConsumerLoop> intake;

  /** @param intake the embeddings loop, null until wired (then every build runs) */
  IntakeGate(Supplier<ConsumerLoop> intake) {
    this.intake = intake;
  }

  /**
   * Whether {@code ticket} may run now; one that may not stays due. Asked before each build, not
   * once a round: a round of builds can take minutes, and a second member may join meanwhile.
   */
  boolean admits(RebuildSchedule.Ticket ticket) {
    ConsumerLoop loop = intake.get();
    if (loop == null) {
      return true;
    }
    if (loop.sharesItsGroup()) {
      return false;
    }
    return ticket.trigger() == RebuildSchedule.Trigger.STARTUP || assignedOnce(loop);
  }

  /** This instance's share of the partitions ("1 of 3") while another member has the rest; else null. */
  String shared() {
    ConsumerLoop loop = intake.get();
    return loop != null && loop.sharesItsGroup() ? loop.ownership() : null;
  }

  /** The loop knows its topics' partitions from its first assignment on ("N of 0" before it). */
  private static boolean assignedOnce(ConsumerLoop loop) {
    return !loop.ownership().endsWith(" of 0");
  }
}
