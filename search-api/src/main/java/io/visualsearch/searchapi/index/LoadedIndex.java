package io.visualsearch.searchapi.index;

import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.indexformat.ImageKeys;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.ShardVectors;
import io.visualsearch.indexformat.SkuIds;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One tenant's index version in memory: its FAISS shards (native memory), the exact vectors of
 * quantised shards (open files), the id → sku and id → image maps and the manifest. Reference counted: the registry holds one reference while the version is served
 * and every query holds one while it searches, so retiring a version during a swap frees its
 * native memory only after the last query that still uses it has finished.
 */
public final class LoadedIndex {

  private final IndexManifest manifest;
  private final IndexModel model;
  private final List<FaissIndex> shards;
  private final List<SharedShardVectors> exactVectors;
  private final Map<Long, String> skuById;
  private final ImageKeys imageKeys;
  private final VectorSpace space;
  private final RefCount refs = new RefCount();
  /** Run once the shards are freed: gives back the version's native memory reservation. */
  private volatile Runnable onFreed;
  private final int graphCandidates;
  private final int probedLists;

  private static final Pattern EF_SEARCH = Pattern.compile("(?:^|,)\\s*efSearch=(\\d+)");
  private static final Pattern NPROBE = Pattern.compile("(?:^|,)\\s*nprobe=(\\d+)");
  /** FAISS's own nprobe, used when an inverted file's manifest names none. */
  static final int FAISS_DEFAULT_NPROBE = 1;
  /** FAISS's own efSearch, used when a graph index's manifest names none. */
  static final int FAISS_DEFAULT_EF_SEARCH = 16;

  public LoadedIndex(IndexManifest manifest, List<FaissIndex> shards, Map<Long, String> skuById, VectorSpace space) {
    this(manifest, shards, null, skuById, space);
  }

  /** A version whose shards need no rescoring, with what images its vectors were computed from. */
  public LoadedIndex(IndexManifest manifest, List<FaissIndex> shards, Map<Long, String> skuById, ImageKeys imageKeys,
      VectorSpace space) {
    this(manifest, shards, skuById, imageKeys, space, null);
  }

  /**
   * @param exactVectors per shard, the vectors its candidates are rescored with, or null (the
   *     whole list, or an entry) when the shard's scores stand as FAISS gives them; owned by this
   *     version from now on
   */
  public LoadedIndex(IndexManifest manifest, List<FaissIndex> shards, List<ShardVectors> exactVectors,
      Map<Long, String> skuById, VectorSpace space) {
    this(manifest, shards, skuById, space, exactVectors == null ? null
        : exactVectors.stream().map(v -> v == null ? null : new SharedShardVectors(v, null)).toList());
  }

  /** With exact vectors possibly shared with other versions; this version holds one reference to each. */
  LoadedIndex(IndexManifest manifest, List<FaissIndex> shards, Map<Long, String> skuById, VectorSpace space,
      List<SharedShardVectors> exactVectors) {
    this(manifest, shards, skuById, ImageKeys.none(), space, exactVectors);
  }

  /** @param imageKeys the image each vector was computed from ({@code images.tsv}) */
  LoadedIndex(IndexManifest manifest, List<FaissIndex> shards, Map<Long, String> skuById, ImageKeys imageKeys,
      VectorSpace space, List<SharedShardVectors> exactVectors) {
    this.manifest = manifest;
    this.model = IndexModel.of(manifest);
    this.imageKeys = imageKeys;
    this.shards = List.copyOf(shards);
    this.exactVectors = exactVectors == null ? null : Collections.unmodifiableList(new ArrayList<>(exactVectors));
    this.skuById = Map.copyOf(skuById);
    this.space = space;
    this.graphCandidates = graphCandidates(manifest);
    this.probedLists = probedLists(manifest);
  }

  /**
   * For HNSW shards, the candidate list the builder asked readers to search with (its manifest's
   * efSearch); 0 for other index types.
   */
  static int graphCandidates(IndexManifest manifest) {
    if (!manifest.graphIndex()) {
      return 0;
    }
    Matcher m = EF_SEARCH.matcher(manifest.searchParameters() == null ? "" : manifest.searchParameters());
    return m.find() ? Integer.parseInt(m.group(1)) : FAISS_DEFAULT_EF_SEARCH;
  }

  /** The HNSW candidate list every search of these shards walks at least; 0: not a graph index. */
  public int graphCandidates() {
    return graphCandidates;
  }

  /** The nprobe the manifest set on the shards (FAISS's 1 when it names none); IVF shards only. */
  static int probedLists(IndexManifest manifest) {
    Matcher m = NPROBE.matcher(manifest.searchParameters() == null ? "" : manifest.searchParameters());
    return m.find() ? Integer.parseInt(m.group(1)) : FAISS_DEFAULT_NPROBE;
  }

  /** The inverted lists a search of these shards probes unless it asks for more (their manifest's nprobe). */
  public int probedLists() {
    return probedLists;
  }

  public String tenant() {
    return manifest.tenant();
  }

  public String version() {
    return manifest.version();
  }

  public IndexManifest manifest() {
    return manifest;
  }

  public long modelVersion() {
    return manifest.modelVersion();
  }

  public String modelName() {
    return manifest.modelName();
  }

  /** The model signature the indexed vectors were computed with (null or empty when not recorded). */
  public String signature() {
    return manifest.signature();
  }

  /** The model this version's vectors were computed with, and their dimension. */
  public IndexModel model() {
    return model;
  }

  /** As {@link IndexModel#fitsName}. */
  public boolean fitsModelName(String name) {
    return model.fitsName(name);
  }

  /** As {@link IndexModel#fitsSignature}. */
  public boolean fitsSignature(String signature) {
    return model.fitsSignature(signature);
  }

  /** The generator's vector variant the indexed vectors were computed with (null when not recorded). */
  public String vectorVariant() {
    return manifest.vectorVariant();
  }

  /** As {@link IndexModel#fitsVariant}. */
  public boolean fitsVariant(String variant) {
    return model.fitsVariant(variant);
  }

  /** As {@link IndexModel#fits}. */
  public boolean fitsModel(String name, long version, String signature, String variant) {
    return model.fits(name, version, signature, variant);
  }

  public int dimension() {
    return manifest.dimension();
  }

  public VectorSpace space() {
    return space;
  }

  /**
   * The image the indexed vector of {@code sku} was computed from ({@link ImageKeys}); 0 when the
   * version does not hold the product or does not say.
   */
  public long imageKeyOf(String sku) {
    return imageKeys.keyOf(SkuIds.id(tenant(), sku));
  }

  public List<FaissIndex> shards() {
    return shards;
  }

  /** The exact vectors of shard {@code s}, which its candidates are rescored with; null: its scores are exact. */
  public ShardVectors exactVectors(int s) {
    SharedShardVectors shared = exactVectors == null ? null : exactVectors.get(s);
    return shared == null ? null : shared.vectors();
  }

  /** The open exact-vectors file holding content {@code sha256}, retained for the caller, or null. */
  SharedShardVectors retainExactVectors(String sha256) {
    if (exactVectors == null || sha256 == null || isFreed()) {
      return null;
    }
    for (SharedShardVectors v : exactVectors) {
      if (v != null && sha256.equals(v.sha256()) && v.tryRetain()) {
        return v;
      }
    }
    return null;
  }

  /** Receives one indexed product's vector. */
  @FunctionalInterface
  public interface VectorSink {
    void accept(String sku, float[] vector);
  }

  /** Rows read at a time: a whole shard's vectors beside the caller's own copies could take the heap twice. */
  private static final int ROWS_AT_ONCE = 4096;

  /**
   * Every indexed product's vector as this version holds it (prepared for its space: a cosine
   * index's are normalised): a quantised shard's from its exact vectors, any other shard's from
   * the shard itself. The vectors the version searches, without replaying where they came from.
   *
   * @throws UnsupportedOperationException for a shard that keeps neither (an operator's factory
   *     with codes and no rescoring), which cannot give its vectors back exactly
   */
  public void forEachVector(VectorSink sink) throws java.io.IOException {
    int d = dimension();
    for (int s = 0; s < shards.size(); s++) {
      ShardVectors exact = exactVectors(s);
      if (exact != null) {
        for (long from = 0; from < exact.count(); from += ROWS_AT_ONCE) {
          ShardVectors.Rows rows = exact.rows(from, (int) Math.min(ROWS_AT_ONCE, exact.count() - from));
          deliver(rows.ids(), rows.vectors(), d, sink);
        }
      } else {
        FaissIndex shard = shards.get(s);
        for (long from = 0; from < shard.ntotal(); from += ROWS_AT_ONCE) {
          FaissIndex.StoredVectors stored = shard.storedVectors(from, (int) Math.min(ROWS_AT_ONCE, shard.ntotal() - from));
          deliver(stored.ids(), stored.vectors(), d, sink);
        }
      }
    }
  }

  private void deliver(long[] ids, float[] vectors, int d, VectorSink sink) {
    for (int i = 0; i < ids.length; i++) {
      String sku = skuById.get(ids[i]);
      if (sku != null) {
        sink.accept(sku, java.util.Arrays.copyOfRange(vectors, i * d, (i + 1) * d));
      }
    }
  }

  /** The sku a FAISS id stands for, or null for an id this version does not know. */
  public String sku(long id) {
    return skuById.get(id);
  }

  public int skuCount() {
    return skuById.size();
  }

  /** Takes a reference unless the version was already released; false means "read the registry again". */
  boolean tryRetain() {
    return refs.tryRetain();
  }

  /** Sets what runs once the last reference is dropped and the shards are freed (the loader's reservation). */
  void onFreed(Runnable action) {
    this.onFreed = action;
  }

  /** Drops one reference; the last one frees the shards. */
  void release() {
    if (refs.release("index " + tenant() + "/" + version())) {
      try {
        for (FaissIndex shard : shards) {
          shard.close();
        }
        if (exactVectors != null) {
          SharedShardVectors.releaseAll(exactVectors);
        }
      } finally {
        Runnable freed = onFreed;
        if (freed != null) {
          freed.run();
        }
      }
    }
  }

  /** References currently held (the registry's plus in-flight queries'); 0 once freed. */
  public int references() {
    return refs.held();
  }

  public boolean isFreed() {
    return refs.held() == 0;
  }
}
