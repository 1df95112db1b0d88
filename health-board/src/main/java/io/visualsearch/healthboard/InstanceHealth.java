package io.visualsearch.healthboard;

import io.visualsearch.proto.events.Heartbeat;
import java.time.Instant;
import java.util.ArrayDeque;

/** What the heartbeats of one instance have said so far. Not thread-safe: the board guards it. */
final class InstanceHealth {

  /** Restarts within the failing window that make an instance failing: a crash loop. */
  static final int RESTARTS_FAILING = 3;
  /** Restart times older than this are dropped: longer than the longest failing window (1 h). */
  private static final long KEEP_RESTARTS_MS = 2 * 3_600_000L;

  private final String service;
  private final String instance;
  private final MinuteSeries activity = new MinuteSeries();
  // Kept apart: Activity counts a dead letter as an error too, so a sum would count it twice.
  private final MinuteSeries errors = new MinuteSeries();
  private final MinuteSeries deadLetters = new MinuteSeries();
  private Heartbeat last;
  /**
   * Another process heard under this instance name while the one shown beat too (its
   * {@code started_at_ms}, and its latest beat): a name configured alike for two processes, whose
   * interleaved totals would otherwise read as restarts and bogus activity.
   */
  private long otherStartedAtMs;
  private long otherLastBeatMs;
  /**
   * When this instance restarted (the new process's {@code started_at_ms}), oldest first: a
   * process killed in place (OOM) restarts under the same name, its totals start from zero, and
   * between crashes it beats ready and error-free, so its row alone read healthy.
   */
  private final ArrayDeque<Long> restarts = new ArrayDeque<>();
  /** The {@code started_at_ms} of the process whose start was booked last as a restart. */
  private long restartedAsMs;

  InstanceHealth(String service, String instance) {
    this.service = service;
    this.instance = instance;
  }

  void apply(Heartbeat hb) {
    long started = hb.getStartedAtMs();
    long shown = last == null ? 0 : last.getStartedAtMs();
    if (started != 0 && shown != 0 && started != shown) {
      if (started < shown) {
        // An older process still beating after a newer one took the name: the row stays the newer's.
        noteOther(started, hb.getTimestampMs());
        if (restartedAsMs == shown && hb.getTimestampMs() >= shown && !restarts.isEmpty()) {
          // The newer one's start, booked as a restart, was a second process under this name.
          restarts.removeLast();
          restartedAsMs = 0;
        }
        return;
      }
      if (last.getTimestampMs() >= started) {
        // Not a restart: the process shown so far beat after this one had started.
        noteOther(shown, last.getTimestampMs());
      } else {
        // A restart: the process shown so far went silent before this one started. Booked at its
        // start as the beat says (not as read), so a replay of the hour counts the restarts it saw.
        noteRestart(Math.min(started, hb.getTimestampMs()));
        restartedAsMs = started;
      }
    } else if (last != null && hb.getTimestampMs() < last.getTimestampMs()) {
      return; // a late duplicate from a retried send: the newer one already counted
    }
    activity.record(hb.getActivityTotal(), hb.getTimestampMs());
    errors.record(hb.getErrorTotal(), hb.getTimestampMs());
    deadLetters.record(hb.getDlqTotal(), hb.getTimestampMs());
    last = hb;
  }

  private void noteRestart(long atMs) {
    restarts.addLast(atMs);
    while (restarts.peekFirst() < atMs - KEEP_RESTARTS_MS) {
      restarts.removeFirst();
    }
  }

  private int restartsWithin(long nowMs, long windowMs) {
    int n = 0;
    for (long at : restarts) {
      if (MinuteSeries.inWindow(at, nowMs, windowMs)) {
        n++;
      }
    }
    return n;
  }

  private void noteOther(long startedAtMs, long beatMs) {
    otherStartedAtMs = startedAtMs;
    otherLastBeatMs = Math.max(otherLastBeatMs, beatMs);
  }

  long lastHeartbeatMs() {
    return last == null ? 0 : last.getTimestampMs();
  }

  /** The silence after which this instance is stale: that many of its own heartbeat intervals. */
  long staleAfterMs(int staleAfterIntervals) {
    return last == null ? 0 : staleAfterIntervals * Math.max(1, last.getIntervalMs());
  }

  HealthRow row(long nowMs, int staleAfterIntervals, long failingWindowMs) {
    long interval = Math.max(1, last.getIntervalMs());
    long silence = nowMs - last.getTimestampMs();
    HealthState state;
    String reason;
    long recentErrors = errors.within(nowMs, failingWindowMs);
    long recentDeadLetters = deadLetters.within(nowMs, failingWindowMs);
    int recentRestarts = restartsWithin(nowMs, failingWindowMs);
    String restarted = recentRestarts == 0 ? ""
        : "restarted " + recentRestarts + (recentRestarts == 1 ? " time" : " times") + " in the last "
            + window(failingWindowMs);
    if (last.getStopping()) {
      // Asked to stop and said so: an SRE's alert on failing or stale must not fire for a rollout.
      state = HealthState.STOPPED;
      reason = "stopped on request at " + Instant.ofEpochMilli(last.getTimestampMs());
    } else if (silence > staleAfterIntervals * interval) {
      state = HealthState.STALE;
      reason = "no heartbeat for " + silence / 1000 + " s (expected every " + interval / 1000.0 + " s)";
    } else if (otherLastBeatMs != 0 && nowMs - otherLastBeatMs <= staleAfterIntervals * interval) {
      state = HealthState.FAILING;
      reason = "two processes send heartbeats as " + instance + " (started " + Instant.ofEpochMilli(otherStartedAtMs)
          + " and " + Instant.ofEpochMilli(last.getStartedAtMs()) + "): give each its own SERVICE_INSTANCE_ID;"
          + " the row shows the later one";
    } else if (recentRestarts >= RESTARTS_FAILING) {
      // A crash loop: between crashes each new process beats ready and error-free.
      state = HealthState.FAILING;
      reason = restarted;
    } else if (!last.getReady()) {
      state = HealthState.FAILING;
      reason = last.getDetail().isEmpty() ? "not ready" : "not ready: " + last.getDetail();
    } else if (recentErrors > 0 || recentDeadLetters > 0) {
      state = HealthState.FAILING;
      reason = recentErrors + " errors, " + recentDeadLetters + " dead letters in the last "
          + window(failingWindowMs);
    } else {
      state = HealthState.HEALTHY;
      reason = "";
    }
    if (!restarted.isEmpty() && !reason.equals(restarted)) {
      reason = reason.isEmpty() ? restarted : reason + "; " + restarted;
    }
    long started = last.getStartedAtMs();
    boolean live = state == HealthState.HEALTHY || state == HealthState.FAILING;
    long uptime = started <= 0 ? -1 : Math.max(0, (live ? nowMs : last.getTimestampMs()) - started);
    return new HealthRow(service, instance, state, reason, last.getActivityTotal(), last.getErrorTotal(),
        last.getDlqTotal(), last.getLastActivityMs(), last.getTimestampMs(), last.getConsumerLag(), last.getReady(),
        activity.lastHour(nowMs), started, uptime, recentRestarts, failingWindowMs);
  }

  /** The failing window as configured (HEALTH_FAILING_WINDOW is at least 1s). */
  static String window(long ms) {
    return ms % 3_600_000 == 0 ? ms / 3_600_000 + " h"
        : ms % 60_000 == 0 ? ms / 60_000 + " min"
        : ms % 1_000 == 0 ? ms / 1_000 + " s" : ms + " ms";
  }
}
