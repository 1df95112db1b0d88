package io.visualsearch.healthboard;

/**
 * Counts per wall-clock minute over the last hour, from a monotonically growing total: each new
 * total's increase is booked to the minute it was reported in. A total that goes down (the
 * instance restarted and counts from zero) books its whole new value.
 */
final class MinuteSeries {

  static final int MINUTES = 60;

  private final long[] counts = new long[MINUTES];
  private final long[] minuteOf = new long[MINUTES];
  private long lastTotal = -1;

  void record(long total, long atMs) {
    long increase = lastTotal < 0 ? 0 : total >= lastTotal ? total - lastTotal : total;
    lastTotal = total;
    long minute = atMs / 60_000;
    int slot = (int) Math.floorMod(minute, (long) MINUTES);
    if (minuteOf[slot] != minute) {
      minuteOf[slot] = minute;
      counts[slot] = 0;
    }
    counts[slot] += increase;
  }

  /** Oldest first, ending with the minute of {@code nowMs}. */
  long[] lastHour(long nowMs) {
    long now = nowMs / 60_000;
    long[] out = new long[MINUTES];
    for (int i = 0; i < MINUTES; i++) {
      long minute = now - (MINUTES - 1) + i;
      int slot = (int) Math.floorMod(minute, (long) MINUTES);
      out[i] = minuteOf[slot] == minute ? counts[slot] : 0;
    }
    return out;
  }

  /**
   * The increase within the last {@code windowMs}, at minute granularity: every minute that
   * overlaps the window counts whole, so the window is never shorter than asked (an increase at
   * 10:00:59 still counts at 10:05:01 for five minutes), up to a minute longer.
   */
  long within(long nowMs, long windowMs) {
    long[] hour = lastHour(nowMs);
    long minutesOverlapped = nowMs / 60_000 - firstMinuteOf(nowMs, windowMs) + 1;
    int minutes = (int) Math.min(MINUTES, minutesOverlapped);
    long sum = 0;
    for (int i = MINUTES - minutes; i < MINUTES; i++) {
      sum += hour[i];
    }
    return sum;
  }

  /**
   * Whether an event at {@code atMs} is within the last {@code windowMs} by the same rule as
   * {@link #within}: its minute overlaps the window (restarts count as errors do).
   */
  static boolean inWindow(long atMs, long nowMs, long windowMs) {
    return Math.floorDiv(atMs, 60_000L) >= firstMinuteOf(nowMs, windowMs);
  }

  /** The first wall-clock minute the window ending at {@code nowMs} reaches into. */
  private static long firstMinuteOf(long nowMs, long windowMs) {
    return Math.floorDiv(nowMs - windowMs, 60_000L);
  }
}
