package io.visualsearch.indexformat;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What one published index version holds. Readers verify every file against its sha256 before
 * serving it, and never mix versions of the model: a manifest names exactly one.
 *
 * <p>Fields added after format 1 was first published are ignored by readers that predate them,
 * which is harmless for most (image_map) but not for those that change how the version must be
 * searched: without search_parameters an IVF shard is searched at nprobe 1, without exact_vectors a
 * quantised shard's candidates are not rescored, and recall collapses while the version serves. So
 * the manifest names those fields in {@code required_features} ({@link #requiredFeatures()}), and
 * a reader refuses a version naming one it does not know ({@link IndexJson#manifest}).
 *
 * @param embeddingsOffsets per partition of the embeddings topic, the next offset after the last
 *     record the build saw; a reader that follows the topic from here misses nothing
 * @param searchParameters FAISS ParameterSpace settings the builder recommends for searching the
 *     shards (e.g. {@code "nprobe=16"} for IVF); null or empty when the index needs none. Added
 *     after format 1 was first published: older manifests lack it and read as null.
 * @param imageMap {@link ImageKeys}: the image each vector was computed from; null in versions
 *     published before it existed, whose readers then treat every re-sent embedding as a change
 * @param vectorVariant what besides the model, its version and signature decided the vectors: the
 *     output read and how images were shaped ({@code Embedding.vector_variant}); null in versions
 *     published before it existed, and when the vectors' records did not say
 */
public record IndexManifest(
    @JsonProperty("format") int format,
    @JsonProperty("tenant") String tenant,
    @JsonProperty("version") String version,
    @JsonProperty("created_at_ms") long createdAtMs,
    @JsonProperty("model_name") String modelName,
    @JsonProperty("model_version") long modelVersion,
    @JsonProperty("signature") String signature,
    @JsonProperty("dimension") int dimension,
    @JsonProperty("metric") String metric,
    @JsonProperty("factory") String factory,
    @JsonProperty("vector_count") long vectorCount,
    @JsonProperty("shards") List<ShardFile> shards,
    @JsonProperty("sku_map") IndexFile skuMap,
    @JsonProperty("embeddings_offsets") Map<Integer, Long> embeddingsOffsets,
    @JsonProperty("search_parameters") String searchParameters,
    @JsonProperty("image_map") @JsonInclude(JsonInclude.Include.NON_NULL) IndexFile imageMap,
    @JsonProperty("vector_variant") @JsonInclude(JsonInclude.Include.NON_NULL) String vectorVariant) {

  public static final int FORMAT = 1;

  /** {@link #requiredFeatures()}: the shards are searched with {@link #searchParameters()}. */
  public static final String FEATURE_SEARCH_PARAMETERS = "search_parameters";
  /** {@link #requiredFeatures()}: a quantised shard's candidates are rescored on its {@link ShardFile#exactVectors()}. */
  public static final String FEATURE_EXACT_VECTORS = "exact_vectors";

  /**
   * An HNSW graph, bare, wrapped for ids, over a PCA projection (then usually refined, {@code
   * ,RFlat}); not an inverted file that merely uses one for its lists.
   */
  private static final Pattern GRAPH_FACTORY = Pattern.compile("^(IDMap2?,)?(PCAW?R?\\d+,)?HNSW\\d+");

  /**
   * Whether the shards are HNSW graphs ({@code IDMap,HNSW32}, {@code IDMap,PCA128,HNSW16,RFlat},
   * {@code HNSW32_SQ8}, ...), whose readers choose the candidate list (efSearch) per search. An
   * inverted file with an HNSW coarse quantiser ({@code IVF4096_HNSW32,Flat}) is not one.
   */
  public boolean graphIndex() {
    return factory != null && GRAPH_FACTORY.matcher(factory).find();
  }

  /**
   * What a reader must understand to search this version correctly, written as {@code
   * required_features} (left out when empty, so a plain manifest reads as it always did). Derived
   * from the fields at each write, so no writer can forget one; read back, it is what {@link
   * IndexJson#manifest} checks, not this. A field added later that changes how the version must be
   * searched gets its name here, and the name goes into the readers' set in the same change.
   */
  @JsonProperty(value = "required_features", access = JsonProperty.Access.READ_ONLY)
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public List<String> requiredFeatures() {
    List<String> features = new ArrayList<>();
    // Blank is what readers take as none.
    if (searchParameters != null && !searchParameters.isBlank()) {
      features.add(FEATURE_SEARCH_PARAMETERS);
    }
    if (shards != null && shards.stream().anyMatch(s -> s != null && s.exactVectors() != null)) {
      features.add(FEATURE_EXACT_VECTORS);
    }
    return List.copyOf(features);
  }

  /** The manifest as first defined, without search parameters; kept so existing callers compile. */
  public IndexManifest(int format, String tenant, String version, long createdAtMs, String modelName,
      long modelVersion, String signature, int dimension, String metric, String factory, long vectorCount,
      List<ShardFile> shards, IndexFile skuMap, Map<Integer, Long> embeddingsOffsets) {
    this(format, tenant, version, createdAtMs, modelName, modelVersion, signature, dimension, metric, factory,
        vectorCount, shards, skuMap, embeddingsOffsets, null, null, null);
  }

  /** A manifest that does not name its vectors' variant, as written before it could. */
  public IndexManifest(int format, String tenant, String version, long createdAtMs, String modelName,
      long modelVersion, String signature, int dimension, String metric, String factory, long vectorCount,
      List<ShardFile> shards, IndexFile skuMap, Map<Integer, Long> embeddingsOffsets, String searchParameters,
      IndexFile imageMap) {
    this(format, tenant, version, createdAtMs, modelName, modelVersion, signature, dimension, metric, factory,
        vectorCount, shards, skuMap, embeddingsOffsets, searchParameters, imageMap, null);
  }

  /**
   * One FAISS file and the number of vectors in it.
   *
   * @param exactVectors for a quantised shard, its vectors in full ({@link ShardVectors}), which
   *     readers rescore its candidates with; null when the shard's own scores are exact. Added
   *     after format 1 was first published: older manifests lack it.
   */
  public record ShardFile(
      @JsonProperty("file") String file,
      @JsonProperty("vectors") long vectors,
      @JsonProperty("bytes") long bytes,
      @JsonProperty("sha256") String sha256,
      @JsonProperty("exact_vectors") @JsonInclude(JsonInclude.Include.NON_NULL) IndexFile exactVectors) {

    /** A shard whose scores need no rescoring. */
    public ShardFile(String file, long vectors, long bytes, String sha256) {
      this(file, vectors, bytes, sha256, null);
    }
  }

  /** Any other file of the version. */
  public record IndexFile(
      @JsonProperty("file") String file,
      @JsonProperty("bytes") long bytes,
      @JsonProperty("sha256") String sha256) {}
}
