package io.visualsearch.indexbuilder;

import io.opentelemetry.context.Context;
import io.visualsearch.indexformat.IndexManifest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Announcements of published versions that Kafka has not acknowledged yet, at most one per
 * tenant: a newer publication replaces an older one, whose event would only make consumers do
 * work for a version that is no longer CURRENT. A version is published once CURRENT names it
 * (search-api also polls CURRENT); the event is a notification, so a failure to send it is
 * retried here on the build thread's ticks, never by building the version again.
 *
 * <p>While sends fail, one backoff holds for all tenants (the topic, the broker or the ACL is
 * what fails, not one tenant's event), and a new publication joins the queue instead of sending
 * at once: a missing topic makes each send wait out the producer's metadata timeout on the build
 * thread, so an outage costs one such wait per backoff, not one per build.
 *
 * <p>Thread-safe: the build thread adds and retries, the producer's thread reports outcomes, the
 * ops thread reads.
 */
final class PendingAnnouncements {

  private static final Logger log = LoggerFactory.getLogger(PendingAnnouncements.class);
  private static final long MIN_BACKOFF_MS = 1_000;
  private static final long MAX_BACKOFF_MS = 300_000;
  /** Longer than the producer's own two minutes of retries: beyond this, it is an outage worth a look. */
  static final Duration OVERDUE = Duration.ofMinutes(5);

  /** One tenant's unacknowledged announcement. Guarded by the outer instance. */
  private static final class Pending {
    final IndexManifest manifest;
    final long publishedAtMs;
    final Context trace;
    final long sinceMs;
    boolean inFlight;
    int failures;
    String lastError;

    Pending(IndexManifest manifest, long publishedAtMs, Context trace, long sinceMs) {
      this.manifest = manifest;
      this.publishedAtMs = publishedAtMs;
      this.trace = trace;
      this.sinceMs = sinceMs;
    }
  }

  private final PublicationAnnouncer announcer;
  private final BuildMetrics metrics;
  private final Clock clock;
  private final Map<String, Pending> pending = new LinkedHashMap<>();
  private int failures;
  private long retryAtMs;

  PendingAnnouncements(PublicationAnnouncer announcer, BuildMetrics metrics, Clock clock) {
    this.announcer = announcer;
    this.metrics = metrics;
    this.clock = clock;
  }

  /**
   * Announces {@code manifest}, now CURRENT, in the calling thread's trace context. Never throws:
   * a failure leaves it pending.
   */
  void announce(IndexManifest manifest, long publishedAtMs) {
    Pending p = new Pending(manifest, publishedAtMs, Context.current(), clock.millis());
    boolean sendNow;
    synchronized (this) {
      pending.remove(manifest.tenant());
      pending.put(manifest.tenant(), p);
      metrics.announcementsPending(pending.size());
      sendNow = clock.millis() >= retryAtMs;
    }
    if (sendNow) {
      send(p);
    }
  }

  /** Sends again what failed, once the backoff has passed; called on every build tick. */
  void retryDue() {
    List<Pending> due = new ArrayList<>();
    synchronized (this) {
      if (clock.millis() < retryAtMs) {
        return;
      }
      for (Pending p : pending.values()) {
        if (!p.inFlight) {
          due.add(p);
        }
      }
    }
    for (Pending p : due) {
      if (!send(p)) {
        return; // refused outright: the others would be too; the backoff now holds them
      }
    }
  }

  /** Returns false when the producer refused the event outright. */
  private boolean send(Pending p) {
    synchronized (this) {
      if (pending.get(p.manifest.tenant()) != p || p.inFlight) {
        return true; // replaced meanwhile, or already on its way
      }
      p.inFlight = true;
    }
    ProducerRecord<byte[], byte[]> event;
    try {
      event = announcer.event(p.manifest, p.publishedAtMs, p.trace);
    } catch (RuntimeException e) {
      drop(p, e);
      return true;
    }
    try {
      announcer.send(event, (metadata, error) -> done(p, error));
      return true;
    } catch (RuntimeException e) {
      done(p, e);
      return false;
    }
  }

  /**
   * The manifest cannot make an event: no retry changes that, and it is this tenant's, not the
   * channel's. Kept, it was retried for ever, grew the backoff that every tenant's announcement
   * waits on and stopped each retry round before the tenants queued behind it.
   */
  private void drop(Pending p, RuntimeException e) {
    String tenant = p.manifest.tenant();
    synchronized (this) {
      p.inFlight = false;
      if (pending.get(tenant) == p) {
        pending.remove(tenant);
        metrics.announcementsPending(pending.size());
      }
    }
    metrics.announcementDropped();
    log.error("tenant {}: version {} cannot be announced on index.published, dropped (search-api still finds it"
        + " through CURRENT; the tenant's next publication is announced)", tenant, p.manifest.version(), e);
  }

  private void done(Pending p, Exception error) {
    String tenant = p.manifest.tenant();
    synchronized (this) {
      if (!p.inFlight) {
        return; // already reported (a producer may both call back and throw)
      }
      p.inFlight = false;
      long now = clock.millis();
      if (error == null) {
        failures = 0;
        retryAtMs = 0;
        if (p.failures > 0) {
          log.info("tenant {}: version {} announced after {} failed attempt(s)", tenant, p.manifest.version(),
              p.failures);
        }
        if (pending.get(tenant) == p) {
          pending.remove(tenant);
          metrics.announcementsPending(pending.size());
        }
        return;
      }
      metrics.announcementFailed();
      p.failures++;
      p.lastError = error.getClass().getSimpleName() + ": " + error.getMessage();
      if (now >= retryAtMs) {
        // Several events failing together count as one failure of the channel.
        retryAtMs = now + Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS << Math.min(failures, 20));
        failures++;
      }
      if (pending.get(tenant) == p) {
        log.warn("tenant {}: announcing version {} on index.published failed ({} attempt(s), pending since {}),"
                + " retrying in {} ms; search-api still finds it through CURRENT: {}", tenant, p.manifest.version(),
            p.failures, Instant.ofEpochMilli(p.sinceMs), Math.max(0, retryAtMs - now), p.lastError);
      }
    }
  }

  /** Announcements unacknowledged for longer than {@link #OVERDUE}, for the health check; empty when none. */
  synchronized String overdue() {
    long now = clock.millis();
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Pending> e : pending.entrySet()) {
      Pending p = e.getValue();
      if (now - p.sinceMs > OVERDUE.toMillis()) {
        out.add(e.getKey() + "=" + p.manifest.version() + " since " + Instant.ofEpochMilli(p.sinceMs) + " ("
            + p.failures + " failed attempt(s), last: " + p.lastError + ")");
      }
    }
    return String.join(", ", out);
  }

  synchronized int size() {
    return pending.size();
  }

  /** Versions still unannounced, by tenant (what a stop leaves to the next start's re-announcement). */
  synchronized Map<String, String> versions() {
    Map<String, String> out = new LinkedHashMap<>();
    pending.forEach((t, p) -> out.put(t, p.manifest.version()));
    return out;
  }
}
