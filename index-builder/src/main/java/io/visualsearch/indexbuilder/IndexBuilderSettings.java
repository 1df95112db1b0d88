package io.visualsearch.indexbuilder;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import io.visualsearch.runtime.ScratchDirectory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** What the index builder reads from its environment besides Kafka, S3, tracing and ops. */
public final class IndexBuilderSettings {

  public static final Setting<Duration> DEBOUNCE_QUIET = Setting.duration("INDEX_BUILDER_DEBOUNCE_QUIET")
      .defaultValue(Duration.ofSeconds(2)).validate(d -> !d.isNegative(), "not negative")
      .doc("A tenant is rebuilt once its embeddings have been quiet this long.");
  public static final Setting<Duration> DEBOUNCE_MAX_DELAY = Setting.duration("INDEX_BUILDER_DEBOUNCE_MAX_DELAY")
      .defaultValue(Duration.ofSeconds(10)).validate(d -> !d.isNegative(), "not negative")
      .doc("Longest a change waits for a rebuild while changes keep arriving, once the tenant's previous build is"
          + " as long past as it took.");
  public static final Setting<Duration> PERIODIC_INTERVAL = Setting.duration("INDEX_BUILDER_PERIODIC_INTERVAL")
      .defaultValue(Duration.ofHours(6)).validate(d -> !d.isNegative(), "not negative")
      .doc("Every tenant is checked at least this often even without changes (the first check after start at a point"
          + " of the interval its name fixes), and rebuilt when its version reused an earlier training or the settings"
          + " now choose another recipe; 0 disables.");
  public static final Setting<Integer> EXACT_THRESHOLD = Setting.integer("INDEX_BUILDER_EXACT_THRESHOLD")
      .defaultValue(20_000).validate(n -> n > 0, "positive")
      .doc("Catalogs smaller than this get an exact index (IDMap,Flat); larger ones an HNSW graph"
          + " (IDMap,PCA128,HNSW16,RFlat for models of 256+ dimensions, else IDMap,HNSW32).");
  public static final Setting<Integer> PQ_THRESHOLD = Setting.integer("INDEX_BUILDER_PQ_THRESHOLD")
      .defaultValue(2_000_000).validate(n -> n > 0, "positive")
      .doc("Catalogs of at least this many vectors get IVF with product quantisation (IVF-PQ).");
  public static final Setting<String> FACTORY = Setting.string("INDEX_BUILDER_FACTORY").optional()
      .doc("FAISS index_factory string used for every tenant instead of the size-based choice, e.g. 'IDMap,HNSW32'."
          + " '{nlist}' is replaced by the computed list count. Must accept add_with_ids.");
  public static final Setting<Integer> NPROBE = Setting.integer("INDEX_BUILDER_NPROBE").defaultValue(16)
      .validate(n -> n > 0, "positive")
      .doc("nprobe written into the manifest's search parameters for IVF indexes (capped at the list count).");
  public static final Setting<Integer> EF_SEARCH = Setting.integer("INDEX_BUILDER_EF_SEARCH").defaultValue(64)
      .validate(n -> n > 0, "positive")
      .doc("efSearch written into the manifest's search parameters for HNSW indexes: the candidate list readers"
          + " walk the graph with (search-api widens it to the neighbours it asks for when that is more).");
  public static final Setting<Integer> SHARD_MAX_VECTORS = Setting.integer("INDEX_BUILDER_SHARD_MAX_VECTORS")
      .defaultValue(250_000).validate(n -> n > 0, "positive")
      .doc("Vectors per shard file at most (fewer when a shard of that many would pass ~1 GiB, e.g. 2,048-d vectors); larger tenants are split by SKU id into several shards.");
  public static final Setting<Double> MIGRATION_COVERAGE = Setting.decimal("INDEX_BUILDER_MIGRATION_COVERAGE")
      .defaultValue(0.98).validate(c -> c > 0 && c <= 1, "in (0, 1]")
      .doc("After a model upgrade, the share of a tenant's products that must carry the new model version"
          + " before the first index of that version is built.");
  public static final Setting<Duration> MIGRATION_QUIET = Setting.duration("INDEX_BUILDER_MIGRATION_QUIET")
      .defaultValue(Duration.ofMinutes(5)).validate(d -> !d.isNegative(), "not negative")
      .doc("After a model upgrade, build the new version anyway once no product of any tenant has been re-embedded"
          + " with it for this long (products whose re-embedding failed are then left out).");
  public static final Setting<Double> MIGRATION_QUIET_COVERAGE = Setting.decimal(
      "INDEX_BUILDER_MIGRATION_QUIET_COVERAGE")
      .defaultValue(0.9).validate(c -> c > 0 && c <= 1, "in (0, 1]")
      .doc("The share of a tenant's products the new model version must carry for INDEX_BUILDER_MIGRATION_QUIET"
          + " to build it: a re-embedding that stops short of it (an embeddings-generator down mid-way, a stray"
          + " vector of an old model) keeps the published index serving instead of dropping the products not"
          + " re-embedded.");
  public static final Setting<Duration> RETENTION = Setting.duration("INDEX_BUILDER_RETENTION")
      .defaultValue(Duration.ofHours(24)).validate(d -> !d.isNegative(), "not negative")
      .doc("Index versions older than this are deleted, except the current one and, until the current one has been"
          + " current this long (at least 1h), the one before it.");
  public static final Setting<Integer> RETAIN_VERSIONS = Setting.integer("INDEX_BUILDER_RETAIN_VERSIONS")
      .defaultValue(10).validate(n -> n >= 0, "zero or more")
      .doc("At most this many versions older than the current one (besides the one before it) are kept, even"
          + " inside INDEX_BUILDER_RETENTION: a catalog that changes all day is rebuilt every few seconds.");
  public static final Setting<List<String>> MODEL_NAMES = Setting.list("INDEX_BUILDER_MODEL_NAMES")
      .defaultValue(List.of(EmbeddingDecoder.ANY_MODEL)).validate(l -> !l.isEmpty(), "a non-empty list")
      .doc("Model names whose embeddings are indexed, * for any; others are dead-lettered as unknown-model. A catalog"
          + " re-embedded under another model name (MODEL_NAME changed) is indexed once the re-embedding covers it, as"
          + " a new model version is; a list without that name dead-letters the whole re-embedding instead.");
  public static final Setting<Integer> BUILD_THREADS = Setting.integer("INDEX_BUILDER_BUILD_THREADS")
      .defaultValue(0).validate(n -> n >= 0, "0 or more")
      .doc("OpenMP threads FAISS uses for a build; 0 keeps FAISS's default (all cores).");
  public static final Setting<Integer> TRACE_LINKS = Setting.integer("INDEX_BUILDER_TRACE_LINKS")
      .defaultValue(32).validate(n -> n >= 0, "0 or more")
      .doc("At most this many product spans are linked from a build span (the most recent changes).");
  public static final Setting<Duration> REPLAY_TIMEOUT = Setting.duration("INDEX_BUILDER_REPLAY_TIMEOUT")
      .defaultValue(Duration.ofMinutes(10)).validate(d -> d.toMillis() > 0, "positive")
      .doc("Start-up fails if replaying the embeddings topic takes longer than this.");

  public static final Setting<String> SCRATCH_DIR = Setting.string("INDEX_BUILDER_SCRATCH_DIR")
      .defaultValue(Path.of(System.getProperty("java.io.tmpdir"), "index-builder-scratch").toString())
      .describeDefault("index-builder-scratch in the JVM's temporary directory")
      .validate(ScratchDirectory::isDirectoryPath, "a directory path")
      .doc("Local directory a build writes its shard files to before uploading them, and quantised shards' exact"
          + " vectors (about 3.7 KB a vector at 768 dimensions for a graph index, 3 KB more for a quantised one's"
          + " vectors); what a killed instance left there is removed when the next one starts.");

  private IndexBuilderSettings() {}

  public static ConfigDef definition() {
    return new ConfigDef().define(DEBOUNCE_QUIET, DEBOUNCE_MAX_DELAY, PERIODIC_INTERVAL, EXACT_THRESHOLD, PQ_THRESHOLD,
        FACTORY, NPROBE, EF_SEARCH, SHARD_MAX_VECTORS, MIGRATION_COVERAGE, MIGRATION_QUIET_COVERAGE, MIGRATION_QUIET, RETENTION, RETAIN_VERSIONS,
        MODEL_NAMES, BUILD_THREADS, TRACE_LINKS, REPLAY_TIMEOUT, SCRATCH_DIR);
  }
}
