package io.visualsearch.healthboard;

import io.visualsearch.proto.events.Heartbeat;

/** What the heartbeats of one instance have said so far. Not thread-safe: the board guards it. */
final class InstanceHealth {

  private final String service;
  private final String instance;
  private final MinuteSeries activity = new MinuteSeries();
  // Kept apart: Activity counts a dead letter as an error too, so a sum would count it twice.
  private final MinuteSeries errors = new MinuteSeries();
  private final MinuteSeries deadLetters = new MinuteSeries();
  private Heartbeat last;

  InstanceHealth(String service, String instance) {
    this.service = service;
    this.instance = instance;
  }

  void apply(Heartbeat hb) {
    if (last != null && hb.getTimestampMs() < last.getTimestampMs()) {
      return; // a late duplicate from a retried send: the newer one already counted
    }
    activity.record(hb.getActivityTotal(), hb.getTimestampMs());
    errors.record(hb.getErrorTotal(), hb.getTimestampMs());
    deadLetters.record(hb.getDlqTotal(), hb.getTimestampMs());
    last = hb;
  }

  long lastHeartbeatMs() {
    return last == null ? 0 : last.getTimestampMs();
  }

  HealthRow row(long nowMs, int staleAfterIntervals, long failingWindowMs) {
    long interval = Math.max(1, last.getIntervalMs());
    long silence = nowMs - last.getTimestampMs();
    HealthState state;
    String reason;
    long recentErrors = errors.within(nowMs, failingWindowMs);
    long recentDeadLetters = deadLetters.within(nowMs, failingWindowMs);
    if (silence > staleAfterIntervals * interval) {
      state = HealthState.STALE;
      reason = "no heartbeat for " + silence / 1000 + " s (expected every " + interval / 1000.0 + " s)";
    } else if (!last.getReady()) {
      state = HealthState.FAILING;
      reason = "not ready";
    } else if (recentErrors > 0 || recentDeadLetters > 0) {
      state = HealthState.FAILING;
      reason = recentErrors + " errors, " + recentDeadLetters + " dead letters in the last "
          + Math.max(1, failingWindowMs / 60_000) + " min";
    } else {
      state = HealthState.HEALTHY;
      reason = "";
    }
    return new HealthRow(service, instance, state, reason, last.getActivityTotal(), last.getErrorTotal(),
        last.getDlqTotal(), last.getLastActivityMs(), last.getTimestampMs(), last.getConsumerLag(), last.getReady(),
        activity.lastHour(nowMs));
  }
}
