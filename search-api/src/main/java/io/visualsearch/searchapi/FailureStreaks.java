package io.visualsearch.searchapi;

import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * The log of queries that failed with a cause (a dependency broke: {@code model_unavailable},
 * {@code store_unavailable}, ...), one streak per error code: the first failure of a streak is
 * logged with its cause's stack trace, then nothing per query, a line with the count at most once
 * per {@code reportEvery} while it lasts, and one line when queries are answered again. A warning
 * with a trace per query was ~30,000 stack traces per replica for a 10-minute model-server outage
 * at 50 queries/s. HTTP and gRPC share one, so an outage is one streak whichever way queries come.
 *
 * <p>A streak ends at an answered query only once no failure of its code came for {@code quiet}:
 * with one of two model servers down, answers and failures alternate, and ending the streak at
 * every answer would log a trace per failure again. A failure after {@code quiet} without any
 * starts a new streak, answered queries between them or not.
 */
public final class FailureStreaks {

  /** How often a lasting streak is counted in the log. */
  public static final Duration REPORT_EVERY = Duration.ofMinutes(1);
  /** How long without a failure of its code before an answer ends a streak. */
  public static final Duration QUIET = Duration.ofSeconds(10);

  private final Logger log;
  private final LongSupplier nanoTime;
  private final long reportEveryNanos;
  private final long quietNanos;
  /** Open streaks by error code; guarded by this. */
  private final Map<String, Streak> open = new HashMap<>();
  /** Whether any streak is open: an answered query, the common case, looks at this only. */
  private volatile boolean anyOpen;

  private static final class Streak {
    final long startNanos;
    long total;
    long sinceReport;
    long lastReportNanos;
    long lastFailureNanos;
    String lastReason;

    Streak(long now) {
      this.startNanos = now;
      this.lastReportNanos = now;
    }
  }

  public FailureStreaks(Logger log) {
    this(log, System::nanoTime, REPORT_EVERY, QUIET);
  }

  public FailureStreaks(Logger log, LongSupplier nanoTime, Duration reportEvery, Duration quiet) {
    this.log = log;
    this.nanoTime = nanoTime;
    this.reportEveryNanos = reportEvery.toNanos();
    this.quietNanos = quiet.toNanos();
  }

  /**
   * Notes a query that failed with a cause. {@code where} (a route, "gRPC Search") is named in the
   * streak's first line only.
   */
  public void failed(String where, ApiException e) {
    long now = nanoTime.getAsLong();
    Throwable cause = e.getCause();
    String reason = cause == null ? e.getMessage()
        : cause.getClass().getSimpleName() + ": " + cause.getMessage();
    synchronized (this) {
      Streak s = open.get(e.code());
      if (s != null && now - s.lastFailureNanos >= quietNanos) {
        // Quiet for a while, with no answer to end it (a replica few queries reach): this is a new
        // outage, whose cause is logged, not counted into the old one.
        log.info("{} failures with {} over {}s ended; last cause {}", s.total, e.code(),
            seconds(s.lastFailureNanos - s.startNanos), s.lastReason);
        open.remove(e.code());
        s = null;
      }
      if (s == null) {
        s = new Streak(now);
        s.total = 1;
        s.lastFailureNanos = now;
        s.lastReason = reason;
        open.put(e.code(), s);
        anyOpen = true;
        log.warn("{} answered {} {}: {}; further failures of {} are counted, not logged one by one",
            where, e.status(), e.code(), e.getMessage(), e.code(), cause);
        return;
      }
      s.total++;
      s.sinceReport++;
      s.lastFailureNanos = now;
      s.lastReason = reason;
      if (now - s.lastReportNanos >= reportEveryNanos) {
        log.warn("queries still failing with {}: {} in the last {}s, {} since the first {}s ago; last cause {}",
            e.code(), s.sinceReport, seconds(now - s.lastReportNanos), s.total, seconds(now - s.startNanos),
            reason);
        s.sinceReport = 0;
        s.lastReportNanos = now;
      }
    }
  }

  /** Notes a query answered: ends the streaks without a failure for the quiet period. */
  public void answered() {
    if (!anyOpen) {
      return;
    }
    long now = nanoTime.getAsLong();
    synchronized (this) {
      for (Iterator<Map.Entry<String, Streak>> it = open.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, Streak> entry = it.next();
        Streak s = entry.getValue();
        if (now - s.lastFailureNanos >= quietNanos) {
          it.remove();
          log.info("queries answered again after {} failures with {} over {}s; last cause {}",
              s.total, entry.getKey(), seconds(s.lastFailureNanos - s.startNanos), s.lastReason);
        }
      }
      anyOpen = !open.isEmpty();
    }
  }

  /** The failures of the open streak of {@code code}, 0 when none is open. */
  public synchronized long failing(String code) {
    Streak s = open.get(code);
    return s == null ? 0 : s.total;
  }

  private static long seconds(long nanos) {
    return Math.round(nanos / 1e9);
  }
}
