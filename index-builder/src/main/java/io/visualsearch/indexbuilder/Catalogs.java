package io.visualsearch.indexbuilder;

import io.visualsearch.pipeline.PoisonRecordException;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Every tenant's catalog plus how far into the embeddings topic they reflect. Written by the
 * consumer thread (and the replay before it), read by the build thread; one monitor guards all
 * of it, and snapshots share the immutable vectors instead of copying them.
 */
final class Catalogs {

  private final Map<String, TenantCatalog> tenants = new HashMap<>();
  /** Per partition, the next offset after the last record applied. */
  private final Map<Integer, Long> watermarks = new TreeMap<>();
  /**
   * While another member may hold some partitions ({@link #watchForSkips}), those on which a record
   * arrived past the watermark: the records between were handled by someone else. Null otherwise.
   */
  private Set<Integer> jumped;
  private final int maxOrigins;
  private final Clock clock;

  Catalogs(int maxOrigins, Clock clock) {
    this.maxOrigins = maxOrigins;
    this.clock = clock;
  }

  /**
   * Applies one record at {@code partition}/{@code offset}; returns whether its tenant changed.
   * A record below the partition's watermark was already applied (the consumer group resumes
   * from its committed offset, which may lie behind what the start-up replay read): it is
   * validated again, so poison still reaches the dead-letter topic, but not re-applied, so the
   * state never steps back to an older vector. {@code producedAtMs} is the record's own
   * timestamp: which model's vectors changed last is then the same after a restart's replay as live.
   */
  synchronized boolean apply(EmbeddingChange change, int partition, long offset, long producedAtMs)
      throws PoisonRecordException {
    TenantCatalog catalog = tenants.computeIfAbsent(change.tenant(), t -> new TenantCatalog(t, maxOrigins));
    // Defensive (the replay settles every tenant when it ends): a live record must meet settled
    // dimensions, or whichever vector it met first would fix them again.
    catalog.settleDimensions();
    boolean alreadyApplied = offset < watermarks.getOrDefault(partition, 0L);
    try {
      if (alreadyApplied) {
        if (change instanceof EmbeddingChange.Upsert u) {
          catalog.checkDimension(u.product());
        }
        return false;
      }
      return catalog.apply(change, partition, offset, clock.millis(), producedAtMs);
    } finally {
      advance(partition, offset);
    }
  }

  /**
   * A record of the start-up replay, produced at {@code producedAtMs}: applied without refusing
   * any dimension, which {@link #settleDimensions} decides once the replay has read everything
   * (the replay interleaves partitions in fetch order, so the first vector it applies is no
   * better a judge than any other). Returns whether its tenant changed.
   */
  synchronized boolean replay(EmbeddingChange change, int partition, long offset, long producedAtMs) {
    TenantCatalog catalog = tenants.computeIfAbsent(change.tenant(), t -> TenantCatalog.replaying(t, maxOrigins));
    try {
      return catalog.replay(change, partition, offset, clock.millis(), producedAtMs);
    } finally {
      advance(partition, offset);
    }
  }

  /**
   * Ends the start-up replay: each tenant's dimension of each model is the majority's, from now on
   * live records of another are refused. Returns how many products' latest vectors were refused.
   */
  synchronized int settleDimensions() {
    int refused = 0;
    for (TenantCatalog c : tenants.values()) {
      refused += c.settleDimensions();
    }
    return refused;
  }

  /** Records that a record was seen (also one refused as poison): manifests cover it. */
  synchronized void advance(int partition, long offset) {
    if (jumped != null && offset > watermarks.getOrDefault(partition, 0L)) {
      jumped.add(partition);
    }
    watermarks.merge(partition, offset + 1, Math::max);
  }

  /**
   * Another member of the group may own some partitions from now on, handle their records and
   * commit them: a partition handed back resumes at its commit, past records this instance never
   * applied (a tombstone among them), and the next manifest would claim to cover them.
   */
  synchronized void watchForSkips() {
    if (jumped == null) {
      jumped = new TreeSet<>();
    }
  }

  /**
   * Ends the watch begun by {@link #watchForSkips}: per partition whose records this instance did
   * not all apply, what it applied and what it missed. A partition was skipped if a record arrived
   * past its watermark since, or if the group committed past it ({@code committed}), which a
   * partition handed back and not yet read again shows.
   */
  synchronized Map<Integer, String> endWatch(Map<Integer, Long> committed) {
    Map<Integer, String> skipped = new TreeMap<>();
    if (jumped != null) {
      for (int p : jumped) {
        skipped.put(p, "a record arrived past the offsets applied");
      }
    }
    committed.forEach((p, next) -> {
      long applied = watermarks.getOrDefault(p, 0L);
      if (next > applied) {
        skipped.put(p, "applied up to offset " + applied + ", the group committed " + next);
      }
    });
    jumped = null;
    return skipped;
  }

  synchronized Optional<TenantSnapshot> snapshot(String tenant) {
    TenantCatalog c = tenants.get(tenant);
    if (c == null) {
      return Optional.empty();
    }
    // A re-embedding that has gone quiet for one tenant may only be busy with another's images
    // (the generator replays images.ready in log order): a tenant's migration counts as stalled
    // only when no tenant's products are moving to that model any more, or a small tenant's
    // new-model index was built from part of its catalog. Ordinary changes of tenants that moved
    // already do not count, or they would hold a tenant with broken images for good.
    Map<ModelKey, Long> migrating = new HashMap<>();
    for (TenantCatalog t : tenants.values()) {
      t.migrationArrivals().forEach((model, ms) -> migrating.merge(model, ms, Math::max));
    }
    return Optional.of(c.snapshot(watermarks, migrating));
  }

  synchronized List<String> tenants() {
    return List.copyOf(tenants.keySet());
  }

  synchronized int products(String tenant) {
    TenantCatalog c = tenants.get(tenant);
    return c == null ? 0 : c.size();
  }

  synchronized Map<Integer, Long> watermarks() {
    return Map.copyOf(watermarks);
  }
}
