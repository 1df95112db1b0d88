package io.visualsearch.healthboard;

import io.visualsearch.proto.events.Heartbeat;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every service instance heard from within the last hour, and its state now. Fed by
 * {@link HeartbeatReader}; read by the page and its JSON form.
 */
public final class HealthBoard {

  private static final long FORGET_AFTER_MS = Duration.ofHours(1).toMillis();
  /** Heartbeats sweep out silent instances at most this often (of the board's clock). */
  private static final long SWEEP_EVERY_MS = 1_000;

  private final Clock clock;
  private final int staleAfterIntervals;
  private final long failingWindowMs;
  private final Map<String, InstanceHealth> instances = new TreeMap<>();
  private boolean swept;
  private long lastSweepMs;
  /** Instances looked at by sweeps so far: what a replay of an hour costs. */
  private long examined;

  public HealthBoard(Clock clock, int staleAfterIntervals, Duration failingWindow) {
    this.clock = clock;
    this.staleAfterIntervals = staleAfterIntervals;
    this.failingWindowMs = failingWindow.toMillis();
  }

  public synchronized void accept(Heartbeat hb) {
    if (hb.getService().isEmpty() || hb.getInstance().isEmpty()) {
      return;
    }
    long now = clock.millis();
    // Stamped ahead of this board's clock (a host's clock jumped, or a unit mistake): taken as
    // heard now. Kept as stamped, one beat a day ahead would make every later real beat look like
    // a late duplicate and its instance look alive until that day.
    Heartbeat beat = hb.getTimestampMs() > now ? hb.toBuilder().setTimestampMs(now).build() : hb;
    instances.computeIfAbsent(hb.getService() + "/" + hb.getInstance(),
        k -> new InstanceHealth(hb.getService(), hb.getInstance())).apply(beat);
    // Not on every beat: a replay of an hour from many (crash-looped) instance ids would look at
    // every instance for every beat read. A clock set back sweeps at once.
    if (!swept || now < lastSweepMs || now - lastSweepMs >= SWEEP_EVERY_MS) {
      forgetSilent(now);
    }
  }

  /** Rows by service then instance; an instance stale for an hour is gone from the table. */
  public synchronized List<HealthRow> rows() {
    long now = clock.millis();
    forgetSilent(now);
    List<HealthRow> rows = new ArrayList<>();
    for (InstanceHealth i : instances.values()) {
      rows.add(i.row(now, staleAfterIntervals, failingWindowMs));
    }
    rows.sort(Comparator.comparing(HealthRow::service).thenComparing(HealthRow::instance));
    return rows;
  }

  /**
   * Also on heartbeats (at most once a second), so that instances come and gone do not pile up
   * while nobody reads the page. Counted from when the instance turned stale, not from its last beat: with a long heartbeat
   * interval or many intervals to staleness, a dead instance showed healthy for the hour, then left
   * the table without ever showing stale.
   */
  private void forgetSilent(long now) {
    swept = true;
    lastSweepMs = now;
    examined += instances.size();
    instances.values().removeIf(i -> now - i.lastHeartbeatMs() > i.staleAfterMs(staleAfterIntervals) + FORGET_AFTER_MS);
  }

  synchronized long instancesExamined() {
    return examined;
  }

  public long nowMs() {
    return clock.millis();
  }
}
