package io.visualsearch.catalogdownloader;

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
 * third of its time to live while the sync runs, deleted when it ends. An instance that dies
 * holding it blocks that tenant's syncs for one time to live at most.
 */
final class SyncLeases {

  static final Duration TTL = Duration.ofMinutes(2);

  private static final Logger log = LoggerFactory.getLogger(SyncLeases.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ObjectStore store;
  private final String owner;
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

  /** Another sync of the tenant holds the lease. */
  static final class BusyException extends Exception {
    BusyException(String message) {
      super(message);
    }
  }

  record Holder(@JsonProperty("owner") String owner, @JsonProperty("expires_at_ms") long expiresAtMs) {}

  static String key(String tenant) {
    return "catalog/" + tenant + "/sync.lease";
  }

  /** Takes the tenant's lease and keeps it renewed until the returned lease is closed. */
  Lease acquire(String tenant) throws BusyException {
    String key = key(tenant);
    // Twice at most: the lease there may be deleted between our create and our read.
    for (int attempt = 0; attempt < 2; attempt++) {
      if (store.putIfAbsent(key, body(), "application/json")) {
        Optional<StoredObject> mine = store.get(key);
        if (mine.isPresent() && owner.equals(read(mine.get()).owner())) {
          return new Lease(tenant, key, mine.get().etag());
        }
        continue;
      }
      Optional<StoredObject> there = store.get(key);
      if (there.isEmpty()) {
        continue;
      }
      Holder holder = read(there.get());
      if (holder.expiresAtMs() > clock.millis()) {
        throw new BusyException("a sync of " + tenant + " is already running on " + holder.owner()
            + " (its lease runs until " + Instant.ofEpochMilli(holder.expiresAtMs()) + ")");
      }
      if (store.replaceIfUnchanged(key, body(), "application/json", there.get().etag())) {
        log.info("tenant {}: took over the sync lease {} held until it expired", tenant, holder.owner());
        Optional<StoredObject> mine = store.get(key);
        if (mine.isPresent() && owner.equals(read(mine.get()).owner())) {
          return new Lease(tenant, key, mine.get().etag());
        }
      }
    }
    throw new BusyException("a sync of " + tenant + " is starting elsewhere at the same moment");
  }

  private byte[] body() {
    try {
      return JSON.writeValueAsBytes(new Holder(owner, clock.millis() + ttl.toMillis()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Holder read(StoredObject o) {
    try {
      return JSON.readValue(o.bytes(), Holder.class);
    } catch (IOException e) {
      // Not ours to parse: treated as expired, so a damaged lease cannot block the tenant for good.
      return new Holder("unreadable lease", 0);
    }
  }

  /** A held lease; {@link #held()} turns false if a renewal found it taken over. */
  final class Lease implements AutoCloseable {

    private final String tenant;
    private final String key;
    private final ScheduledExecutorService renewer;
    private volatile String etag;
    private volatile long expiresAtMs;
    private volatile boolean lost;

    private Lease(String tenant, String key, String etag) {
      this.tenant = tenant;
      this.key = key;
      this.etag = etag;
      this.expiresAtMs = clock.millis() + ttl.toMillis();
      this.renewer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sync-lease-" + tenant);
        t.setDaemon(true);
        return t;
      });
      long every = Math.max(1, ttl.toMillis() / 3);
      renewer.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    }

    /** Whether this sync still holds the tenant: its state may be saved only then. */
    boolean held() {
      return !lost && clock.millis() < expiresAtMs;
    }

    private void renew() {
      if (lost) {
        return;
      }
      try {
        long expires = clock.millis() + ttl.toMillis();
        if (store.replaceIfUnchanged(key, body(), "application/json", etag)) {
          etag = store.get(key).map(StoredObject::etag).orElse(etag);
          expiresAtMs = expires;
        } else {
          lost = true;
          log.warn("tenant {}: the sync lease was taken over; this sync will not save its state", tenant);
        }
      } catch (ObjectStoreException e) {
        // Tried again at the next renewal; held() turns false once the lease has run out meanwhile.
        log.warn("tenant {}: could not renew the sync lease: {}", tenant, e.getMessage());
      }
    }

    @Override
    public void close() {
      renewer.shutdownNow();
      try {
        renewer.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!held()) {
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
