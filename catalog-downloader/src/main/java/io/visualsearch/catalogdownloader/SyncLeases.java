package io.visualsearch.catalogdownloader;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreException;
import io.visualsearch.objectstore.StoredObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sync of a tenant at a time, across instances and the one-shot sync job. A tenant's snapshot
 * and pending ids are plain writes: two syncs interleaving (a retailer's one-shot job beside the
 * service's schedule, two pods in a rolling update) could leave a snapshot that names a product
 * whose last record on the topic is the other sync's tombstone, and the product stayed out of
 * search until its content next changed.
 *
 * <p>The lease is {@code catalog/<tenant>/sync.lease}: created only if absent, or replaced only if
 * the one there has expired (conditional writes, so two takers cannot both win), renewed every
 * sixth of its time to live while the sync runs, deleted when it ends. Its holder counts it as held
 * only until a third of its time before it expires ({@link Lease#held()}), so a sync that stalls
 * stops sending before anyone may take the tenant over (hosts' clocks must agree within that
 * margin). A lease left by an earlier run of this same instance (a restart after a kill) is taken
 * over at once; one left by another instance blocks the tenant for one time to live at most.
 */
final class SyncLeases {

  static final Duration TTL = Duration.ofMinutes(2);

  private static final Logger log = LoggerFactory.getLogger(SyncLeases.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ObjectStore store;
  private final String owner;
  /** Tells this process's leases from those an earlier run of the same instance left behind. */
  private final String run = UUID.randomUUID().toString();
  private final Duration ttl;
  private final Clock clock;

  SyncLeases(ObjectStore store, String owner) {
    this(store, owner, TTL, Clock.systemUTC());
  }

  SyncLeases(ObjectStore store, String owner, Duration ttl, Clock clock) {
    this.store = store;
    this.owner = owner;
    this.ttl = ttl;
    this.clock = clock;
  }

  /** Another sync of the tenant holds the lease, until {@link #expiresAtMs()} unless renewed. */
  static final class BusyException extends Exception {
    private final long expiresAtMs;

    BusyException(String message, long expiresAtMs) {
      super(message);
      this.expiresAtMs = expiresAtMs;
    }

    long expiresAtMs() {
      return expiresAtMs;
    }
  }

  /** The sync's lease ran out or was taken over: it must stop sending and save nothing. */
  static final class LostException extends RuntimeException {
    LostException(String message) {
      super(message);
    }
  }

  /** Fields a later version adds are ignored: misread, a live lease would look expired. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Holder(@JsonProperty("owner") String owner, @JsonProperty("run") String run,
      @JsonProperty("expires_at_ms") long expiresAtMs) {}

  static String key(String tenant) {
    return "catalog/" + tenant + "/sync.lease";
  }

  /** Takes the tenant's lease and keeps it renewed until the returned lease is closed. */
  Lease acquire(String tenant) throws BusyException {
    String key = key(tenant);
    // Twice at most: the lease there may be deleted between a refused create and its read.
    for (int attempt = 0; attempt < 2; attempt++) {
      long expires = clock.millis() + ttl.toMillis();
      Optional<String> created = store.writeIfUnchanged(key, body(expires), "application/json", null);
      if (created.isPresent()) {
        return new Lease(tenant, key, etagOf(key, created.get()), expires);
      }
      Optional<StoredObject> there = store.get(key);
      if (there.isEmpty()) {
        continue;
      }
      Holder holder = read(there.get());
      boolean leftByOurLastRun = owner.equals(holder.owner()) && !run.equals(holder.run());
      if (holder.expiresAtMs() > clock.millis() && !leftByOurLastRun) {
        throw new BusyException("a sync of " + tenant + " is already running on " + holder.owner()
            + " (its lease runs until " + Instant.ofEpochMilli(holder.expiresAtMs()) + ")", holder.expiresAtMs());
      }
      expires = clock.millis() + ttl.toMillis();
      Optional<String> taken = store.writeIfUnchanged(key, body(expires), "application/json", there.get().etag());
      if (taken.isPresent()) {
        log.info("tenant {}: took over the sync lease {} left ({})", tenant, holder.owner(),
            leftByOurLastRun ? "an earlier run of this instance" : "expired");
        return new Lease(tenant, key, etagOf(key, taken.get()), expires);
      }
    }
    throw new BusyException("a sync of " + tenant + " is starting elsewhere at the same moment",
        clock.millis() + ttl.toMillis());
  }

  /** The ETag a write returned, or, from a store that returns none, the one read back. */
  private String etagOf(String key, String written) {
    return written.isEmpty() ? store.get(key).map(StoredObject::etag).orElse("") : written;
  }

  private byte[] body(long expiresAtMs) {
    try {
      return JSON.writeValueAsBytes(new Holder(owner, run, expiresAtMs));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Holder read(StoredObject o) {
    try {
      return JSON.readValue(o.bytes(), Holder.class);
    } catch (IOException e) {
      // Not JSON at all (written by hand?): treated as expired, so it cannot block the tenant for good.
      return new Holder("unreadable lease", "", 0);
    }
  }

  /** A held lease; {@link #held()} turns false once it nears expiry unrenewed or was taken over. */
  final class Lease implements AutoCloseable {

    private final String tenant;
    private final String key;
    private final ScheduledExecutorService renewer;
    private volatile String etag;
    private volatile long expiresAtMs;
    private volatile boolean lost;

    private Lease(String tenant, String key, String etag, long expiresAtMs) {
      this.tenant = tenant;
      this.key = key;
      this.etag = etag;
      this.expiresAtMs = expiresAtMs;
      this.renewer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sync-lease-" + tenant);
        t.setDaemon(true);
        return t;
      });
      // Every sixth: a renewal that fails or hangs for a store call's time leaves room for more.
      long every = Math.max(1, ttl.toMillis() / 6);
      renewer.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * Whether this sync may still act for the tenant (send, save its state): until a third of the
     * lease's time before it expires, so the sync stops before another may take over.
     */
    boolean held() {
      return !lost && clock.millis() < expiresAtMs - ttl.toMillis() / 3;
    }

    void requireHeld() {
      if (!held()) {
        throw new LostException("lost the sync lease of " + tenant + " ("
            + (lost ? "taken over" : "not renewed in time")
            + "); this sync stops, and the sync that takes the tenant over reconciles what it sent");
      }
    }

    private void renew() {
      if (lost) {
        return;
      }
      try {
        // The expiry written, not the time the write returned: the store may hold it a while.
        long expires = clock.millis() + ttl.toMillis();
        Optional<String> renewed = store.writeIfUnchanged(key, body(expires), "application/json", etag);
        if (renewed.isPresent()) {
          etag = etagOf(key, renewed.get());
          expiresAtMs = expires;
        } else {
          lost = true;
          log.warn("tenant {}: the sync lease was taken over; this sync stops and saves nothing", tenant);
        }
      } catch (ObjectStoreException e) {
        // Tried again at the next renewal; held() turns false if the lease nears expiry meanwhile.
        log.warn("tenant {}: could not renew the sync lease: {}", tenant, e.getMessage());
      }
    }

    @Override
    public void close() {
      // Not interrupted: a renewal under way may have written, and its ETag is the one to delete.
      renewer.shutdown();
      try {
        renewer.awaitTermination(1, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (lost || clock.millis() >= expiresAtMs) {
        return;
      }
      try {
        Optional<StoredObject> there = store.get(key);
        if (there.isPresent() && there.get().etag().equals(etag)) {
          store.delete(key);
        }
      } catch (ObjectStoreException e) {
        // It expires by itself within one time to live.
        log.warn("tenant {}: could not release the sync lease: {}", tenant, e.getMessage());
      }
    }
  }
}
