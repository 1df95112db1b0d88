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

  private final Clock clock;
  private final int staleAfterIntervals;
  private final long failingWindowMs;
  private final Map<String, InstanceHealth> instances = new TreeMap<>();

  public HealthBoard(Clock clock, int staleAfterIntervals, Duration failingWindow) {
    this.clock = clock;
    this.staleAfterIntervals = staleAfterIntervals;
    this.failingWindowMs = failingWindow.toMillis();
  }

  public synchronized void accept(Heartbeat hb) {
    if (hb.getService().isEmpty() || hb.getInstance().isEmpty()) {
      return;
    }
    instances.computeIfAbsent(hb.getService() + "/" + hb.getInstance(),
        k -> new InstanceHealth(hb.getService(), hb.getInstance())).apply(hb);
  }

  /** Rows by service then instance; an instance silent for an hour is gone from the table. */
  public synchronized List<HealthRow> rows() {
    long now = clock.millis();
    instances.values().removeIf(i -> now - i.lastHeartbeatMs() > FORGET_AFTER_MS);
    List<HealthRow> rows = new ArrayList<>();
    for (InstanceHealth i : instances.values()) {
      rows.add(i.row(now, staleAfterIntervals, failingWindowMs));
    }
    rows.sort(Comparator.comparing(HealthRow::service).thenComparing(HealthRow::instance));
    return rows;
  }

  public long nowMs() {
    return clock.millis();
  }
}
