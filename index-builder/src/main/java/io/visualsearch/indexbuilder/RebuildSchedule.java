package io.visualsearch.indexbuilder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * When each tenant is due for a rebuild. Changes are debounced: a tenant is built once its
 * changes have been quiet for a moment, or when its oldest unbuilt change reaches the maximum
 * delay, whichever comes first — a catalog feed arriving as a burst becomes one build, and a
 * steady trickle still gets built every few seconds. Every tenant is also checked periodically, a
 * period after its last build, or after its start-up check at a point of the period its name fixes.
 * Failed builds back off exponentially; held builds (a model migration in progress) are looked
 * at again at a given time. Times are milliseconds from the caller's clock; thread-safe.
 */
final class RebuildSchedule {

  /** Why a build runs; a start-up check may find the published index already up to date. */
  enum Trigger { STARTUP, CHANGED, PERIODIC }

  /** What a started build took over; handed back if the build does not publish. */
  record Ticket(String tenant, Trigger trigger, Long dirtySinceMs) {}

  private static final long MIN_BACKOFF_MS = 1_000;
  private static final long MAX_BACKOFF_MS = 300_000;

  private static final class State {
    Long dirtySinceMs;
    long lastChangeMs;
    boolean unverified;
    long periodicDueMs;
    long buildStartedMs;
    long notBeforeMs;
    int failures;
  }

  private final Duration quiet;
  private final Duration maxDelay;
  private final Duration periodic;
  private final Map<String, State> tenants = new HashMap<>();

  RebuildSchedule(Duration quiet, Duration maxDelay, Duration periodic) {
    this.quiet = quiet;
    this.maxDelay = maxDelay;
    this.periodic = periodic;
  }

  synchronized void changed(String tenant, long nowMs) {
    State s = state(tenant, nowMs);
    if (s.dirtySinceMs == null) {
      s.dirtySinceMs = nowMs;
    }
    s.lastChangeMs = nowMs;
  }

  /** After the start-up replay: the published index of each tenant must be checked once. */
  synchronized void replayed(List<String> replayedTenants, long nowMs) {
    for (String t : replayedTenants) {
      state(t, nowMs).unverified = true;
    }
  }

  /** Tenants whose build should start now, each with the reason. */
  synchronized List<Ticket> due(long nowMs) {
    List<Ticket> out = new ArrayList<>();
    for (Map.Entry<String, State> e : tenants.entrySet()) {
      State s = e.getValue();
      if (nowMs < s.notBeforeMs) {
        continue;
      }
      Trigger trigger = null;
      if (s.dirtySinceMs != null && (nowMs - s.lastChangeMs >= quiet.toMillis()
          || nowMs - s.dirtySinceMs >= maxDelay.toMillis())) {
        trigger = s.unverified ? Trigger.STARTUP : Trigger.CHANGED;
      } else if (s.unverified) {
        trigger = Trigger.STARTUP;
      } else if (!periodic.isZero() && nowMs >= s.periodicDueMs) {
        trigger = Trigger.PERIODIC;
      }
      if (trigger != null) {
        out.add(new Ticket(e.getKey(), trigger, s.dirtySinceMs));
      }
    }
    return out;
  }

  /** The build takes the tenant's pending changes; changes arriving from now on make it dirty again. */
  synchronized void started(Ticket ticket, long nowMs) {
    State s = tenants.get(ticket.tenant());
    s.dirtySinceMs = null;
    s.unverified = false;
    s.buildStartedMs = nowMs;
  }

  /** How the build of {@code ticket} ended, for a build that did not throw. */
  synchronized void ended(Ticket ticket, BuildMetrics.Outcome outcome, long nowMs, long recheckAtMs) {
    switch (outcome) {
      case HELD -> held(ticket, nowMs, recheckAtMs);
      case LOST_RACE -> lostRace(ticket, nowMs);
      default -> succeeded(ticket, nowMs);
    }
  }

  /**
   * Published, or found already up to date. The tenant's next build waits at least as long as
   * this one took: a catalog of millions, whose build takes minutes, changing all the time was
   * rebuilt back to back, every replica of search-api downloading each version, and every other
   * tenant's builds waiting behind it. Meanwhile its changes are searchable from search-api's fresh
   * delta; a small catalog's build, well under the quiet period, is not held at all.
   */
  synchronized void succeeded(Ticket ticket, long nowMs) {
    State s = tenants.get(ticket.tenant());
    s.periodicDueMs = nextPeriodicMs(ticket, nowMs);
    s.failures = 0;
    s.notBeforeMs = Math.max(s.notBeforeMs, nowMs + Math.max(0, nowMs - s.buildStartedMs));
  }

  /** Retried after an exponential backoff, with the changes it took. */
  synchronized long failed(Ticket ticket, long nowMs) {
    State s = giveBack(ticket);
    long backoff = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS << Math.min(s.failures, 20));
    s.failures++;
    s.notBeforeMs = nowMs + backoff;
    return backoff;
  }

  /**
   * Another builder flipped CURRENT to a newer version meanwhile, which need not hold the changes
   * this build took (counted as built, they were dropped until the tenant's next change): they come
   * back and the tenant is built again after a backoff, so two builders flipping in turn do not
   * build in a loop. A start-up check given back checks again, and finds a version that covers
   * everything up to date.
   */
  synchronized long lostRace(Ticket ticket, long nowMs) {
    long backoff = failed(ticket, nowMs);
    State s = tenants.get(ticket.tenant());
    if (s.dirtySinceMs == null) {
      // A periodic build took no changes, but what it would have published is not served either.
      s.dirtySinceMs = nowMs;
    }
    return backoff;
  }

  /** Looked at again at {@code recheckAtMs} at the latest, or sooner on a new change. */
  synchronized void held(Ticket ticket, long nowMs, long recheckAtMs) {
    State s = giveBack(ticket);
    // A held tenant still counts as built for the periodic schedule: nothing new could be built.
    s.periodicDueMs = nextPeriodicMs(ticket, nowMs);
    s.notBeforeMs = Math.max(nowMs + quiet.toMillis(), Math.min(recheckAtMs, nowMs + maxDelay.toMillis()));
    if (s.dirtySinceMs == null) {
      s.dirtySinceMs = nowMs;
    }
  }

  /**
   * When a tenant whose build or check of {@code ticket} ended now is next due for a periodic check:
   * a period later, except after its start-up check. Every tenant is checked at start, so a period
   * after it all of them (hundreds) came due together, and were built back to back on the one build
   * thread, every search-api replica reloading every tenant at once and changed tenants waiting
   * behind them; a point of the period derived from the tenant's name spreads them over it, and
   * stays the same across restarts.
   */
  private long nextPeriodicMs(Ticket ticket, long nowMs) {
    long period = periodic.toMillis();
    return nowMs + (ticket.trigger() == Trigger.STARTUP ? phaseMs(ticket.tenant(), period) : period);
  }

  /** A point in (0, period] fixed by the tenant's name, spread evenly over tenants. */
  static long phaseMs(String tenant, long periodMs) {
    if (periodMs <= 0) {
      return 0;
    }
    // String.hashCode is specified, so the point is the same in every run; the mix (SplitMix64's
    // finaliser) spreads names that differ in a character or two, like "shop-1" and "shop-2".
    long z = tenant.hashCode() * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z ^= z >>> 31;
    return 1 + Math.floorMod(z, periodMs);
  }

  private State giveBack(Ticket ticket) {
    State s = tenants.get(ticket.tenant());
    if (ticket.dirtySinceMs() != null) {
      s.dirtySinceMs = s.dirtySinceMs == null ? ticket.dirtySinceMs() : Math.min(s.dirtySinceMs, ticket.dirtySinceMs());
    }
    if (ticket.trigger() == Trigger.STARTUP) {
      s.unverified = true;
    }
    return s;
  }

  private State state(String tenant, long nowMs) {
    return tenants.computeIfAbsent(tenant, t -> {
      State s = new State();
      s.periodicDueMs = nowMs + periodic.toMillis();
      return s;
    });
  }
}
