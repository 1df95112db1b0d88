package io.visualsearch.searchapi.fresh;

import io.visualsearch.searchapi.index.IndexModel;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.searchapi.index.VectorSpace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import java.util.function.IntUnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tenant's embeddings records newer than its served index: changed or new vectors searched
 * exactly beside the shards, and deletions. A record is kept only if its offset is at or past the
 * served manifest's embeddings offset for its partition (the "floor"); installing a newer version
 * raises the floor and drops what the new version already contains.
 *
 * <p>Vectors of another model than the searched index's are kept (they become relevant when an
 * index of that model is installed) but neither searched nor allowed to hide the index's vector
 * of the same product: one answer never mixes two models. "The searched index" is the version a
 * query leased, not the newest one installed: a query that leased a version before a swap to
 * another model searches that version's vectors only.
 *
 * <p>A record of the picture the newest installed version already holds for its product is not
 * kept, whatever its model: it changes nothing that version answers. Of the same model it repeats
 * the indexed vector: a price or title change travels the whole pipeline and comes back as an
 * embeddings record with the same vector, and a nightly update of every product would otherwise
 * fill the delta with the whole catalog, searched exactly on every query until the next build. Of
 * another model it is a model rollout re-embedding the catalog: kept, every product's vector of the
 * new model would sit here until the new model's index is served, hours on a large catalog and
 * about 3 KB a product on the heap. A version of that model, once adopted, gets the records past its
 * floor read again (the follower rewinds to it), so it misses none of them.
 *
 * <p>During a model rollout the generator embeds changes with the new model only. A record whose
 * picture the served version does not hold gets a stand-in of the served model (embedded by
 * {@link RolloutReembedder}), searched in the record's place by versions of that model.
 */
public final class FreshDelta {

  private static final Logger log = LoggerFactory.getLogger(FreshDelta.class);
  /**
   * Vectors (changed or new products' and stand-ins) a delta of its own keeps at most; see
   * {@link TenantDeltas} for those of a service, which share {@code SEARCH_FRESH_DELTA_MAX_VECTORS}.
   */
  static final int MAX_VECTORS = 100_000;
  /** Absorbed vectors kept at most by a delta of its own; the oldest go first (their products then answer from the files). */
  static final int MAX_ABSORBED = 10_000;
  /** Adopted versions remembered, for telling a similar-items file's version's age. */
  static final int MAX_ADOPTED = 256;

  private final Map<String, DeltaEntry> bySku = new HashMap<>();
  /**
   * Per sku, the record (partition and offset) that took the product back to the picture the
   * served version holds, when an entry of another picture or a deletion stood before it: with no
   * entry left, a rewind (any tenant's swap rewinds the shared reader to that tenant's floor)
   * re-read the older record as the newest, and the reverted picture hid the indexed one until the
   * revert was read again. Neither hidden nor searched; it only rejects older records. At most one
   * per product, and only past the floor: a rebase drops those below its new floor, so they last
   * no longer than the entries the next index covers.
   */
  private final Map<String, Marker> reverted = new HashMap<>();
  /**
   * Per sku, a vector of the served version's model computed from the picture of the product's
   * record in {@link #bySku} (same partition and offset), which that version cannot search itself.
   */
  private final Map<String, DeltaEntry> standIns = new HashMap<>();
  /**
   * Vectors a version adopted from this delta, with the adoption that took them: the product's
   * precomputed similar items are of its old picture (or missing, for a new product) until
   * response-consumer writes files for that version or a later one, minutes later. Until then
   * its similar items are searched live from this vector, as while it was in the delta.
   */
  private final Map<String, Absorbed> absorbed = new LinkedHashMap<>();
  /** How many absorbed vectors this delta may keep now (a share of every tenant's, see {@link TenantDeltas}). */
  private final IntSupplier absorbedCap;
  /**
   * How many vectors ({@link #bySku}'s, not deletions, and {@link #standIns}) this delta may hold
   * now: with no index published for days, changes piled up here at about 3 KB of heap each, every
   * query scanned them all, and a few hundred thousand ended the JVM on OutOfMemoryError, on every
   * replica, again at each restart as they all replayed the same records. Past it a vector record
   * is not kept (its product answers from the index until the next version, whose adoption rewinds
   * the follower to its floor, so the records it lacks are read again); deletions always are.
   */
  private final IntUnaryOperator vectorCap;
  /** Vectors every delta of the service holds, and the most they may hold together. */
  private final AtomicLong heldByAll;
  private final long maxHeldByAll;
  /**
   * Vectors this delta holds ({@link #vectorCap}); kept in {@link #heldByAll} too. Written under
   * this delta's lock, read without it by the other deltas' caps ({@link #heldNow}).
   */
  private volatile int vectors;
  /** Whether a vector record was refused since the delta last had room: logged once. */
  private boolean full;
  /** Vector records refused for want of room, ever. */
  private long refused;
  /** Version -> its adoption's number (1, 2, ...), for the newest {@link #MAX_ADOPTED} versions. */
  private final Map<String, Long> adoptions = new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
      return size() > MAX_ADOPTED;
    }
  };
  private long adopted;
  private Map<Integer, Long> floor = Map.of();
  /**
   * The newest installed version, for what it already holds (read only while it is served); stored
   * vectors are prepared for its space.
   */
  private LoadedIndex served;
  /**
   * Bumped by every change. Each search and similar-items request takes a snapshot: copying up to
   * the absorbed cap's entries under this lock per request capped a busy tenant's product pages
   * and stalled the follower's accept() behind them, so one is computed again only after a change.
   */
  private long changes;
  private LoadedIndex snapshotIndex;
  private long snapshotChanges = -1;
  private Snapshot lastSnapshot;

  /** A delta that keeps at most {@link #MAX_ABSORBED} absorbed vectors. */
  public FreshDelta() {
    this(() -> MAX_ABSORBED);
  }

  /** A delta that keeps at most {@code absorbedCap} absorbed vectors, read at each adoption. */
  FreshDelta(IntSupplier absorbedCap) {
    this(absorbedCap, held -> MAX_VECTORS, new AtomicLong(), MAX_VECTORS);
  }

  /**
   * @param vectorCap the vectors this delta may hold now, given those it holds (see {@link TenantDeltas})
   * @param heldByAll the vectors all deltas hold, which may not exceed {@code maxHeldByAll}
   */
  FreshDelta(IntSupplier absorbedCap, IntUnaryOperator vectorCap, AtomicLong heldByAll,
      long maxHeldByAll) {
    this.absorbedCap = absorbedCap;
    this.vectorCap = vectorCap;
    this.heldByAll = heldByAll;
    this.maxHeldByAll = maxHeldByAll;
  }

  /** Whether one more vector fits what this delta may hold and the service's total. */
  private boolean roomForOne() {
    return vectors < vectorCap.applyAsInt(vectors) && heldByAll.get() < maxHeldByAll;
  }

  /** The vectors held for {@code sku}: its record's (not a deletion) and its stand-in. */
  private int heldFor(String sku) {
    DeltaEntry e = bySku.get(sku);
    return (e != null && !e.isTombstone() ? 1 : 0) + (standIns.containsKey(sku) ? 1 : 0);
  }

  private void held(int change) {
    if (change != 0) {
      vectors += change;
      heldByAll.addAndGet(change);
    }
  }

  /** Counts a vector record not kept for want of room; the first of a streak is logged. */
  private void refuse(DeltaEntry entry) {
    refused++;
    if (!full) {
      full = true;
      log.warn("fresh delta of tenant {} is full ({} vectors held, {} by all tenants, at most {} for this tenant and {}"
          + " for all, SEARCH_FRESH_DELTA_MAX_VECTORS): changes from {} on wait for its next index (deletions still"
          + " apply); logged once until it has room again", tenant(), vectors, heldByAll.get(), vectorCap.applyAsInt(vectors),
          maxHeldByAll, entry.sku());
    }
  }

  private String tenant() {
    return served == null ? "(none served yet)" : served.tenant();
  }

  /** Vectors held (changed or new products', stand-ins; not deletions nor absorbed ones). */
  public synchronized int vectors() {
    return vectors;
  }

  /** {@link #vectors}, read without this delta's lock: for another delta's cap, which holds its own. */
  int heldNow() {
    return vectors;
  }

  /** Whether vector records were refused for want of room since the delta last had room. */
  public synchronized boolean full() {
    return full;
  }

  /** Vector records refused for want of room, since the start. */
  public synchronized long refused() {
    return refused;
  }

  /** Drops the oldest absorbed vectors past the cap: their products then answer from the files. */
  synchronized void trimAbsorbed() {
    changes++;
    int cap = absorbedCap.getAsInt();
    Iterator<String> oldest = absorbed.keySet().iterator();
    while (absorbed.size() > cap && oldest.hasNext()) {
      oldest.next();
      oldest.remove();
    }
  }

  /** Adopts a newly served version: new floor and space; drops what it covers. */
  public synchronized void rebase(LoadedIndex index) {
    changes++;
    lastSnapshot = null;
    snapshotIndex = null;
    Map<Integer, Long> offsets = index.manifest().embeddingsOffsets();
    this.floor = offsets == null ? Map.of() : Map.copyOf(offsets);
    VectorSpace previous = space();
    this.served = index;
    adoptions.remove(index.version());
    adoptions.put(index.version(), ++adopted);
    boolean sameSpace = previous != null && previous.equals(index.space());
    // Markers go with the records the new version covers: none is older than the floor.
    reverted.values().removeIf(m -> !atOrAboveFloor(m.partition(), m.offset()));
    bySku.values().removeIf(e -> {
      boolean below = !atOrAboveFloor(e.partition(), e.offset());
      boolean covered = below || alreadyServed(e);
      if (covered && !below) {
        // The new version holds this picture, and the rewind to its floor reads this record's
        // elders again: as for a revert (see reverted).
        reverted.put(e.sku(), new Marker(e.partition(), e.offset()));
      }
      if (covered) {
        // Re-inserted, so the map's order is the order of absorption.
        absorbed.remove(e.sku());
        DeltaEntry standIn = standIns.remove(e.sku());
        if (sameSpace && !e.isTombstone() && searchableIn(e, index)) {
          absorbed.put(e.sku(), new Absorbed(e, adopted));
        } else if (sameSpace && standIn != null && searchableIn(standIn, index)) {
          absorbed.put(e.sku(), new Absorbed(standIn, adopted));
        }
      }
      return covered;
    });
    // A stand-in is for the model it was computed with; another model's version needs none, or its own.
    standIns.values().removeIf(t -> !sameSpace || !searchableIn(t, index));
    if (previous == null) {
      bySku.replaceAll((sku, e) -> e.isTombstone() ? e : e.withVector(index.space().prepare(e.vector())));
    } else if (!sameSpace) {
      // Vectors were prepared for the old space; re-preparing raw vectors is impossible once
      // normalised, so drop them: the new index holds every product up to its floor anyway.
      bySku.values().removeIf(e -> !e.isTombstone());
      absorbed.clear();
    }
    int now = 0;
    for (DeltaEntry e : bySku.values()) {
      now += e.isTombstone() ? 0 : 1;
    }
    held(now + standIns.size() - vectors);
    if (roomForOne()) {
      roomAgain();
    }
    trimAbsorbed();
  }

  /**
   * The delta takes vectors again (an adoption, deletions, another tenant's adoption freeing the
   * service's total): said once, and the next time it fills is said again.
   */
  private void roomAgain() {
    if (full) {
      full = false;
      log.info("fresh delta of tenant {} has room again ({} vectors held): changes are searchable at once again",
          tenant(), vectors);
    }
  }

  /** Records the newest state of a product; older or pre-floor records are ignored. */
  public synchronized void accept(DeltaEntry entry) {
    if (!atOrAboveFloor(entry.partition(), entry.offset())) {
      return;
    }
    changes++;
    DeltaEntry prev = bySku.get(entry.sku());
    if (prev != null && prev.partition() == entry.partition() && prev.offset() > entry.offset()) {
      return;
    }
    Marker back = reverted.get(entry.sku());
    if (back != null && back.partition() == entry.partition() && back.offset() > entry.offset()) {
      return;
    }
    // Deletions are always kept (a removed product must never be returned), and so are records
    // that only replace a vector held: the cap refuses growth only.
    boolean grows = prev == null || prev.isTombstone()
        || reembedsSearchedPicture(prev, entry) && !standIns.containsKey(entry.sku());
    if (!entry.isTombstone() && grows && !alreadyServed(entry)) {
      if (!roomForOne()) {
        refuse(entry);
        return;
      }
      roomAgain();
    }
    int before = heldFor(entry.sku());
    try {
      keep(prev, entry);
    } finally {
      held(heldFor(entry.sku()) - before);
    }
  }

  private void keep(DeltaEntry prev, DeltaEntry entry) {
    if (prev == null || prev.partition() != entry.partition() || prev.offset() != entry.offset()) {
      if (reembedsSearchedPicture(prev, entry)) {
        // A rollout's re-embedding of a picture the served version searches from this delta: the
        // old model's vector keeps answering for it, or the served version's older picture would
        // answer again (a new product vanish) until an index of the new model is served.
        standIns.put(entry.sku(), new DeltaEntry(entry.sku(), entry.partition(), entry.offset(), prev.modelName(),
            prev.modelVersion(), prev.signature(), prev.variant(), prev.vector(), prev.imageKey()));
      } else {
        standIns.remove(entry.sku()); // kept when a rewind reads the same record again
      }
    }
    if (alreadyServed(entry)) {
      // The product is back to what the index holds: its indexed vector is current again. A
      // marker, when an older record stood here, keeps a rewind from making that one the newest.
      if (bySku.remove(entry.sku()) != null || reverted.containsKey(entry.sku())) {
        reverted.put(entry.sku(), new Marker(entry.partition(), entry.offset()));
      }
      standIns.remove(entry.sku());
      return;
    }
    DeltaEntry stored = entry.isTombstone() || served == null ? entry
        : entry.withVector(served.space().prepare(entry.vector()));
    bySku.put(entry.sku(), stored);
    reverted.remove(entry.sku());
    absorbed.remove(entry.sku());
  }

  /**
   * Whether {@code entry} is the same picture as {@code prev}, which the served version searches
   * (its vector prepared for it), in a vector that version cannot search.
   */
  private boolean reembedsSearchedPicture(DeltaEntry prev, DeltaEntry entry) {
    return prev != null && served != null && !prev.isTombstone() && !entry.isTombstone() && prev.imageKey() != 0
        && prev.imageKey() == entry.imageKey() && searchableIn(prev, served) && !searchableIn(entry, served);
  }

  /**
   * The served version, when {@code entry} is the product's newest record, a vector that version
   * cannot search (another model, signature or variant: a rollout), of a picture the version does
   * not hold for the product: without a stand-in of the served model the product's change would
   * not be searchable until an index of the record's model is served. Empty otherwise, and once
   * the record has its stand-in.
   */
  public synchronized Optional<LoadedIndex> needsStandIn(DeltaEntry entry) {
    if (served == null || served.modelVersion() == 0 || entry.isTombstone() || entry.imageKey() == 0
        || !isNewest(entry) || standIns.containsKey(entry.sku()) || !roomForOne()) {
      return Optional.empty();
    }
    DeltaEntry held = bySku.get(entry.sku());
    if (searchableIn(held, served) || served.imageKeyOf(entry.sku()) == entry.imageKey()) {
      return Optional.empty();
    }
    return Optional.of(served);
  }

  /**
   * Keeps {@code vector}, computed with {@code model} from the picture of {@code source},
   * as the record's stand-in for versions of that model. False (nothing kept) when a newer record
   * of the product arrived meanwhile, or the served version is no longer of that model.
   */
  public synchronized boolean acceptStandIn(DeltaEntry source, IndexModel model, float[] vector) {
    changes++;
    if (served == null || !isNewest(source)) {
      return false;
    }
    DeltaEntry standIn = new DeltaEntry(source.sku(), source.partition(), source.offset(),
        orEmpty(model.name()), model.version(), orEmpty(model.signature()), orEmpty(model.variant()),
        vector, source.imageKey());
    if (!searchableIn(standIn, served)) {
      return false;
    }
    if (!standIns.containsKey(source.sku())) {
      if (!roomForOne()) {
        refuse(source);
        return false;
      }
      roomAgain();
    }
    int before = heldFor(source.sku());
    standIns.put(source.sku(), standIn.withVector(served.space().prepare(vector)));
    held(heldFor(source.sku()) - before);
    return true;
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  /** Whether {@code entry} is the record this delta holds for its product. */
  private boolean isNewest(DeltaEntry entry) {
    DeltaEntry held = bySku.get(entry.sku());
    return held != null && held.partition() == entry.partition() && held.offset() == entry.offset();
  }

  /**
   * Whether the newest installed version holds this record's picture for its product: the same
   * vector when of its model, nothing it could search otherwise (see the class comment).
   */
  private boolean alreadyServed(DeltaEntry e) {
    return served != null && !e.isTombstone() && e.imageKey() != 0 && served.imageKeyOf(e.sku()) == e.imageKey();
  }

  private boolean atOrAboveFloor(int partition, long offset) {
    return atOrAbove(floor, partition, offset);
  }

  /**
   * A consistent copy for one query of {@code index} (the version it leased): what to search and
   * which index skus it hides. Records before {@code index}'s own floor are left out: a version
   * installed but not adopted yet (see {@link #rebase}) already holds them, and an older record of a
   * product would hide its newer indexed vector.
   */
  public synchronized Snapshot snapshot(LoadedIndex index) {
    if (lastSnapshot != null && snapshotIndex == index && snapshotChanges == changes) {
      return lastSnapshot;
    }
    Map<Integer, Long> own = floorOf(index);
    List<DeltaEntry> searchable = new ArrayList<>();
    Set<String> hidden = new HashSet<>();
    for (DeltaEntry e : bySku.values()) {
      if (!atOrAbove(own, e.partition(), e.offset())) {
        continue;
      }
      if (e.isTombstone()) {
        hidden.add(e.sku());
      } else if (searchableIn(e, index)) {
        hidden.add(e.sku());
        searchable.add(e);
      } else {
        DeltaEntry standIn = standIns.get(e.sku());
        if (standIn != null && searchableIn(standIn, index)) {
          hidden.add(e.sku());
          searchable.add(standIn);
        }
      }
    }
    Map<String, Absorbed> recent = new HashMap<>();
    absorbed.forEach((sku, a) -> {
      if (!hidden.contains(sku) && searchableIn(a.entry(), index)) {
        recent.put(sku, a);
      }
    });
    lastSnapshot = new Snapshot(List.copyOf(searchable), Set.copyOf(hidden), Map.copyOf(recent), Map.copyOf(adoptions));
    snapshotIndex = index;
    snapshotChanges = changes;
    return lastSnapshot;
  }

  /**
   * The same, only while this delta still holds every record {@code index} lacks: empty once a
   * version with a higher floor was adopted, which dropped the records below its floor (and those
   * it holds itself), though {@code index} lacks them. A query leased {@code index} a moment before
   * that swap: it leases again and gets the adopted version.
   */
  public synchronized Optional<Snapshot> completeSnapshot(LoadedIndex index) {
    Map<Integer, Long> own = floorOf(index);
    for (Map.Entry<Integer, Long> f : floor.entrySet()) {
      Long o = own.get(f.getKey());
      if (o == null || o < f.getValue()) {
        return Optional.empty();
      }
    }
    return Optional.of(snapshot(index));
  }

  private static Map<Integer, Long> floorOf(LoadedIndex index) {
    Map<Integer, Long> offsets = index.manifest().embeddingsOffsets();
    return offsets == null ? Map.of() : offsets;
  }

  private static boolean atOrAbove(Map<Integer, Long> floor, int partition, long offset) {
    Long f = floor.get(partition);
    return f == null || offset >= f;
  }

  /**
   * Whether a vector belongs in {@code index}'s space: its model version, signature, variant and
   * dimension, and prepared (normalised or not) the way that index compares vectors. Another
   * signature or variant of the same version (the generator reconfigured to another layer, output
   * or image size) may have the same dimension and would then be compared with vectors it has
   * nothing in common with.
   */
  private boolean searchableIn(DeltaEntry e, LoadedIndex index) {
    return index.fitsModel(e.modelName(), e.modelVersion(), e.signature(), e.variant())
        && e.vector().length == index.dimension() && index.space().equals(space());
  }

  /** The space stored vectors are prepared for: the newest installed version's (none before one). */
  private VectorSpace space() {
    return served == null ? null : served.space();
  }

  public synchronized int size() {
    return bySku.size();
  }

  /** Products whose newest record is only remembered ({@link #reverted}). */
  synchronized int markers() {
    return reverted.size();
  }

  /** A product's newest record, when that record left nothing to keep ({@link #reverted}). */
  private record Marker(int partition, long offset) {}

  /** A vector a version took from the delta, by the number of the adoption that took it. */
  record Absorbed(DeltaEntry entry, long adoption) {}

  /**
   * @param hidden skus whose index vector must not be returned (changed or deleted since the build)
   * @param absorbed vectors recently taken into an index from the delta (see {@link FreshDelta#absorbed})
   * @param adoptions version -> adoption number, for the versions this delta remembers
   */
  public record Snapshot(List<DeltaEntry> searchable, Set<String> hidden, Map<String, Absorbed> absorbed,
      Map<String, Long> adoptions) {

    public static final Snapshot EMPTY = new Snapshot(List.of(), Set.of(), Map.of(), Map.of());

    public Snapshot(List<DeltaEntry> searchable, Set<String> hidden) {
      this(searchable, hidden, Map.of(), Map.of());
    }

    /** The vector an index recently took from the delta for this product, if any. */
    public float[] absorbedVectorOf(String sku) {
      Absorbed a = absorbed.get(sku);
      return a == null ? null : a.entry().vector();
    }

    /**
     * The vector an index recently took from the delta for this product, while precomputed similar
     * items of {@code fileVersion} (null: no file) predate it; null when the file is current.
     */
    public float[] newerThanFile(String sku, String fileVersion) {
      Absorbed a = absorbed.get(sku);
      if (a == null) {
        return null;
      }
      Long fileAdoption = fileVersion == null ? null : adoptions.get(fileVersion);
      return fileAdoption != null && fileAdoption >= a.adoption() ? null : a.entry().vector();
    }

    /** The fresh vector of a product, if this copy has one for the index it was taken for. */
    public float[] vectorOf(String sku) {
      for (DeltaEntry e : searchable) {
        if (e.sku().equals(sku)) {
          return e.vector();
        }
      }
      return null;
    }
  }
}
