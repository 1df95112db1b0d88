package io.visualsearch.healthboard;

import io.visualsearch.proto.events.Heartbeat;
import java.time.Instant;

/** What the heartbeats of one instance have said so far. Not thread-safe: the board guards it. */
final class InstanceHealth {

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
        return;
      }
      if (last.getTimestampMs() >= started) {
        // Not a restart: the process shown so far beat after this one had started.
        noteOther(shown, last.getTimestampMs());
      }
    } else if (last != null && hb.getTimestampMs() < last.getTimestampMs()) {
      return; // a late duplicate from a retried send: the newer one already counted
    }
    activity.record(hb.getActivityTotal(), hb.getTimestampMs());
    errors.record(hb.getErrorTotal(), hb.getTimestampMs());
    deadLetters.record(hb.getDlqTotal(), hb.getTimestampMs());
    last = hb;
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
    return new HealthRow(service, instance, state, reason, last.getActivityTotal(), last.getErrorTotal(),
        last.getDlqTotal(), last.getLastActivityMs(), last.getTimestampMs(), last.getConsumerLag(), last.getReady(),
        activity.lastHour(nowMs));
  }

  /** The failing window as configured (HEALTH_FAILING_WINDOW is at least 1s). */
  static String window(long ms) {
    return ms % 3_600_000 == 0 ? ms / 3_600_000 + " h"
        : ms % 60_000 == 0 ? ms / 60_000 + " min"
        : ms % 1_000 == 0 ? ms / 1_000 + " s" : ms + " ms";
  }
}
