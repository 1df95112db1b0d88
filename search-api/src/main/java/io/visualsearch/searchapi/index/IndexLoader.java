package io.visualsearch.searchapi.index;

import io.visualsearch.faiss.FaissException;
import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.CorruptIndexException;
import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.ImageKeys;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.Sha256;
import io.visualsearch.indexformat.SkuMap;
import io.visualsearch.indexformat.ShardVectors;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.StoredObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a tenant's published index from the object store: CURRENT → manifest → every shard and
 * skus.tsv, each verified against the manifest's size and sha256 before FAISS sees a byte. A
 * version that fails any check is refused whole ({@link CorruptIndexException}); the caller keeps
 * serving what it had. The one optional file, images.tsv, is left out when whole but unreadable here.
 *
 * <p>The exact vectors of quantised shards are downloaded into a scratch directory, verified,
 * opened and unlinked at once: the open file stays readable until the last version using it is
 * released and its disk space is returned then, even if the process dies first. A file whose
 * content (sha256) the served version already holds is shared instead of downloaded again. With
 * scratch space the shards pass through it too, read by FAISS from the file, not the heap.
 */
public final class IndexLoader {

  private static final Logger log = LoggerFactory.getLogger(IndexLoader.class);

  private final ObjectStore store;
  private final Path scratch;
  private final boolean withExactVectors;
  private final NativeMemoryBudget nativeMemory;
  private final ShardOpener opener;
  private final IndexJson json = new IndexJson();

  /** A loader of FAISS shards only, for readers that rescore quantised shards from their own vectors. */
  public IndexLoader(ObjectStore store) {
    this(store, null);
  }

  /**
   * @param scratch where shards and the exact vectors of quantised shards are downloaded to; null:
   *     shards are read through the heap and exact vectors not loaded
   */
  public IndexLoader(ObjectStore store, Path scratch) {
    this(store, scratch, true, NativeMemoryBudget.unchecked());
  }

  /**
   * As {@link #IndexLoader(ObjectStore, Path)}, loading a version only when its shards fit
   * {@code nativeMemory} beside the versions loaded already ({@link NativeMemoryBudget.Exceeded}).
   */
  public IndexLoader(ObjectStore store, Path scratch, NativeMemoryBudget nativeMemory) {
    this(store, scratch, true, nativeMemory);
  }

  private IndexLoader(ObjectStore store, Path scratch, boolean withExactVectors, NativeMemoryBudget nativeMemory) {
    this(store, scratch, withExactVectors, nativeMemory, ShardOpener.FAISS);
  }

  /** With shards opened by {@code opener}: for tests of a load that fails part-way. */
  IndexLoader(ObjectStore store, Path scratch, boolean withExactVectors, NativeMemoryBudget nativeMemory,
      ShardOpener opener) {
    this.store = store;
    this.scratch = scratch;
    this.withExactVectors = withExactVectors;
    this.nativeMemory = nativeMemory;
    this.opener = opener;
  }

  /** How a verified shard file becomes a FAISS index. */
  interface ShardOpener {
    ShardOpener FAISS = new ShardOpener() {
      @Override
      public FaissIndex fromBytes(byte[] bytes) {
        return FaissIndex.deserialize(bytes);
      }

      @Override
      public FaissIndex fromFile(Path file) {
        return FaissIndex.read(file);
      }
    };

    FaissIndex fromBytes(byte[] bytes);

    FaissIndex fromFile(Path file);
  }

  /**
   * A loader of FAISS shards only, read through {@code scratch}, for readers that rescore from
   * their own vectors (the similar-items job): the exact vectors of a quantised shard are some
   * 50 times its size, not worth downloading and hashing to be left unread.
   */
  public static IndexLoader shardsOnly(ObjectStore store, Path scratch) {
    return new IndexLoader(store, scratch, false, NativeMemoryBudget.unchecked());
  }

  /** Runs {@code listener} each time a loaded or loading version gives its native memory back. */
  public void onNativeMemoryReleased(Runnable listener) {
    nativeMemory.onRelease(listener);
  }

  /** The tenant's CURRENT pointer, or empty when nothing was published for it yet. */
  public Optional<CurrentPointer> current(String tenant) throws CorruptIndexException {
    Optional<StoredObject> o = store.get(IndexLayout.currentPointer(tenant));
    if (o.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(json.pointer(o.get().bytes()));
  }

  /**
   * Tenants with anything under {@code indexes/}; one without a CURRENT pointer yet has nothing to
   * load. One listing of folders, not of every file of every retained version: every instance asks
   * at every poll.
   */
  public Set<String> publishedTenants() {
    return new TreeSet<>(store.folders("indexes/"));
  }

  public IndexManifest manifest(String tenant, String version) throws CorruptIndexException {
    String key = IndexLayout.manifest(tenant, version);
    byte[] bytes = store.get(key).orElseThrow(() -> new CorruptIndexException("manifest " + key + " is missing")).bytes();
    IndexManifest m = json.manifest(bytes);
    if (!tenant.equals(m.tenant()) || !version.equals(m.version())) {
      throw new CorruptIndexException("manifest " + key + " describes " + m.tenant() + "/" + m.version());
    }
    return m;
  }

  /** Loads a version fully; the returned index holds one reference, owned by the caller. */
  public LoadedIndex load(String tenant, String version) throws CorruptIndexException {
    return load(tenant, version, null);
  }

  /**
   * As {@link #load(String, String)}, reusing the exact-vectors files of {@code served} (a version
   * the caller holds a lease on, or null) whose content the new manifest names by the same sha256.
   */
  public LoadedIndex load(String tenant, String version, LoadedIndex served) throws CorruptIndexException {
    IndexManifest m = manifest(tenant, version);
    // Before a shard is read: held until the version's shards are freed, or given back at once
    // when it fails to load.
    NativeMemoryBudget.Reservation reservation = nativeMemory.reserve(m);
    try {
      LoadedIndex loaded = load(tenant, m, served);
      loaded.onFreed(reservation::release);
      return loaded;
    } catch (CorruptIndexException | RuntimeException | Error e) {
      // An Error too (a linkage error out of FAISS's native code): its reservation would stay
      // counted for good, and every later load be refused for memory nothing holds.
      reservation.release();
      throw e;
    }
  }

  private LoadedIndex load(String tenant, IndexManifest m, LoadedIndex served) throws CorruptIndexException {
    String version = m.version();
    Map<Long, String> skus = skuMap(tenant, m);
    ImageKeys images = imageKeys(tenant, m);
    List<FaissIndex> shards = new ArrayList<>();
    List<SharedShardVectors> exact = new ArrayList<>();
    try {
      long vectors = 0;
      for (IndexManifest.ShardFile shard : m.shards()) {
        FaissIndex index = shardIndex(tenant, m, shard);
        shards.add(index);
        if (index.dimension() != m.dimension()) {
          throw new CorruptIndexException(shard.file() + " has dimension " + index.dimension()
              + ", manifest says " + m.dimension());
        }
        if (index.ntotal() != shard.vectors()) {
          throw new CorruptIndexException(shard.file() + " holds " + index.ntotal() + " vectors, manifest says "
              + shard.vectors());
        }
        if (index.metric() != shards.get(0).metric()) {
          throw new CorruptIndexException(shard.file() + " uses metric " + index.metric() + " unlike shard 0");
        }
        if (m.searchParameters() != null && !m.searchParameters().isBlank()) {
          // e.g. nprobe for IVF shards: what the builder measured its recall with.
          index.setParameters(m.searchParameters());
        }
        vectors += index.ntotal();
        exact.add(scratch == null || !withExactVectors || shard.exactVectors() == null ? null
            : exactVectors(tenant, m, shard, served));
      }
      if (vectors != skus.size()) {
        throw new CorruptIndexException("shards hold " + vectors + " vectors but skus.tsv maps " + skus.size());
      }
      Metric metric = shards.isEmpty() ? Metric.INNER_PRODUCT : shards.get(0).metric();
      return new LoadedIndex(m, shards, skus, images, VectorSpace.of(metric, m.metric()), exact);
    } catch (CorruptIndexException | RuntimeException | Error e) {
      // An Error too (a linkage error out of FAISS's native code, direct buffer memory refused):
      // the caller gives the version's native memory reservation back, so the shards opened so far
      // must be freed with it, not left outside the heap for the process's life.
      shards.forEach(FaissIndex::close);
      SharedShardVectors.releaseAll(exact);
      if (e instanceof FaissException f) {
        String message = "FAISS cannot read a shard of " + tenant + "/" + version + ": " + f.getMessage();
        if (outOfNativeMemory(f)) {
          // Retried with back-off (a RuntimeException), not the version refused for good.
          throw new IllegalStateException(message + " (out of native memory on this instance)", f);
        }
        throw new CorruptIndexException(message);
      }
      throw e;
    }
  }

  /**
   * Whether FAISS failed for want of native memory (C++'s bad_alloc; two versions are held during
   * a swap): this machine's state, not the shard's, whose size and sha256 were verified.
   */
  static boolean outOfNativeMemory(FaissException f) {
    return f.getMessage() != null && f.getMessage().contains("bad_alloc");
  }

  private SharedShardVectors exactVectors(String tenant, IndexManifest m, IndexManifest.ShardFile shard,
      LoadedIndex served) throws CorruptIndexException {
    IndexManifest.IndexFile file = shard.exactVectors();
    SharedShardVectors reused = served == null ? null : served.retainExactVectors(file.sha256());
    if (reused != null) {
      if (reused.vectors().dimension() == m.dimension() && reused.vectors().count() == shard.vectors()) {
        return reused;
      }
      reused.release();
    }
    return throughScratch(tenant, m, file.file(), file.bytes(), file.sha256(),
        local -> new SharedShardVectors(ShardVectors.open(local, m.dimension(), shard.vectors()), file.sha256()));
  }

  /** What {@code open} makes of a file of the version, downloaded into scratch and verified, then unlinked. */
  private <T> T throughScratch(String tenant, IndexManifest m, String file, long bytes, String sha256,
      ScratchReader<T> open) throws CorruptIndexException {
    String key = IndexLayout.file(tenant, m.version(), file);
    Path local = null;
    try {
      Files.createDirectories(scratch);
      local = Files.createTempFile(scratch, tenant + "-" + m.version() + "-", "-" + file);
      if (!store.download(key, local)) {
        throw new CorruptIndexException(key + " is missing");
      }
      Sha256.verify(file, local, bytes, sha256);
      return open.read(local);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + key + " through " + scratch + ": " + e.getMessage(), e);
    } finally {
      if (local != null) {
        try {
          Files.deleteIfExists(local);
        } catch (IOException e) {
          // What was read keeps its data (an open reader, FAISS's copy); a file left behind costs
          // disk space only, and is swept at the next start.
        }
      }
    }
  }

  @FunctionalInterface
  private interface ScratchReader<T> {
    T read(Path local) throws IOException, CorruptIndexException;
  }

  /**
   * A shard file, verified. With scratch space it goes through a local file that FAISS reads
   * itself: read into the heap first, a shard of up to ~1 GiB took most of a container's heap,
   * and twice that while the next version loaded beside the served one.
   */
  private FaissIndex shardIndex(String tenant, IndexManifest m, IndexManifest.ShardFile shard)
      throws CorruptIndexException {
    if (scratch == null) {
      byte[] bytes = fetch(tenant, m, shard.file(), shard.bytes());
      Sha256.verify(shard.file(), bytes, shard.bytes(), shard.sha256());
      return opener.fromBytes(bytes);
    }
    return throughScratch(tenant, m, shard.file(), shard.bytes(), shard.sha256(), opener::fromFile);
  }

  private Map<Long, String> skuMap(String tenant, IndexManifest m) throws CorruptIndexException {
    if (m.skuMap() == null) {
      throw new CorruptIndexException("manifest of " + tenant + "/" + m.version() + " has no sku map");
    }
    byte[] bytes = fetch(tenant, m, m.skuMap().file(), m.skuMap().bytes());
    Sha256.verify(m.skuMap().file(), bytes, m.skuMap().bytes(), m.skuMap().sha256());
    return SkuMap.parse(bytes);
  }

  /** The version's images.tsv; none for a version published before it existed. */
  private ImageKeys imageKeys(String tenant, IndexManifest m) throws CorruptIndexException {
    if (m.imageMap() == null) {
      return ImageKeys.none();
    }
    byte[] bytes = fetch(tenant, m, m.imageMap().file(), m.imageMap().bytes());
    Sha256.verify(m.imageMap().file(), bytes, m.imageMap().bytes(), m.imageMap().sha256());
    return imageKeysOrNone(tenant + "/" + m.version(), bytes);
  }

  /**
   * The image keys in a file whose checksum held, or none when this reader cannot parse it (a
   * builder's fault, or a layout later than columns added after the key): the file is optional.
   * Without it the fresh delta takes each re-sent embedding of the version as a change until the
   * next version (after a catalog-wide price update, the whole catalog: heap and a slower scan, not
   * wrong answers); refusing the version kept the tenant on its previous one meanwhile.
   */
  static ImageKeys imageKeysOrNone(String version, byte[] bytes) {
    try {
      return ImageKeys.parse(bytes);
    } catch (CorruptIndexException e) {
      log.warn("{}: {} is not readable here and is left out (re-sent embeddings count as changes): {}", version,
          ImageKeys.FILE, e.getMessage());
      return ImageKeys.none();
    }
  }

  /** A file of the version, of the size its manifest states (a large one is read as a transfer). */
  private byte[] fetch(String tenant, IndexManifest m, String file, long bytes) throws CorruptIndexException {
    String key = IndexLayout.file(tenant, m.version(), file);
    return store.get(key, bytes).orElseThrow(() -> new CorruptIndexException(key + " is missing")).bytes();
  }
}
