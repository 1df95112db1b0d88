package io.visualsearch.searchapi;

import io.visualsearch.healthboard.HealthPages;
import io.visualsearch.healthboard.HealthSettings;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.ConfigException;
import io.visualsearch.imagevalidation.NormalisationSettings;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.modelclient.ModelClientSettings;
import io.visualsearch.faiss.BlasThreads;
import io.visualsearch.faiss.ExhaustiveSearchBlas;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.pipeline.PipelineService;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.OpsServer;
import io.visualsearch.runtime.ReadinessReport;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.searchapi.auth.ApiKeys;
import io.visualsearch.searchapi.auth.Authenticator;
import io.visualsearch.searchapi.embed.ModelClientEmbedder;
import io.visualsearch.searchapi.embed.QueryEmbedder;
import io.visualsearch.searchapi.fresh.CatalogView;
import io.visualsearch.searchapi.fresh.FreshnessFollower;
import io.visualsearch.searchapi.fresh.RolloutReembedder;
import io.visualsearch.searchapi.fresh.TenantDeltas;
import io.visualsearch.searchapi.grpc.SearchGrpcServer;
import io.visualsearch.searchapi.grpc.VisualSearchService;
import io.visualsearch.searchapi.http.Admission;
import io.visualsearch.searchapi.http.ApiRoutes;
import io.visualsearch.searchapi.http.HttpApi;
import io.visualsearch.searchapi.http.SearchRequestParser;
import io.visualsearch.searchapi.http.StaticFiles;
import io.visualsearch.searchapi.http.UploadBudget;
import io.visualsearch.searchapi.image.QueryImageDecoder;
import io.visualsearch.searchapi.index.IndexLoader;
import io.visualsearch.searchapi.index.IndexSwapper;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.searchapi.index.NativeMemoryBudget;
import io.visualsearch.runtime.ScratchDirectory;
import io.visualsearch.searchapi.index.TenantIndexes;
import io.visualsearch.searchapi.search.IndexSearcher;
import io.visualsearch.searchapi.search.QueryService;
import io.visualsearch.searchapi.search.ResponsePublisher;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Wires search-api with plain constructors onto a {@link ServiceHost}, in start order: tracing,
 * ops, producer, object store, model client, indexes (loaded before traffic), the freshness
 * follower, then the gRPC and HTTP front doors, the heartbeat last. Nothing is static, so several
 * instances (the demo, tests) can share one JVM.
 */
public final class SearchApiService {

  public static final String NAME = "search-api";

  private final HttpApi http;
  private final OpsServer ops;
  private final SearchGrpcServer grpc;
  private final TenantIndexes indexes;
  private final IndexSwapper swapper;
  private final CatalogView catalog;
  private final TenantDeltas deltas;

  private SearchApiService(HttpApi http, OpsServer ops, SearchGrpcServer grpc, TenantIndexes indexes,
      IndexSwapper swapper, CatalogView catalog, TenantDeltas deltas) {
    this.http = http;
    this.ops = ops;
    this.grpc = grpc;
    this.indexes = indexes;
    this.swapper = swapper;
    this.catalog = catalog;
    this.deltas = deltas;
  }

  public static ConfigDef definition() {
    return new ConfigDef().include(PipelineService.definition()).include(ObjectStoreSettings.definition())
        .include(ModelClientSettings.definition()).include(SearchApiSettings.definition())
        .include(HealthSettings.definition()).include(NormalisationSettings.definition());
  }

  /**
   * Each answer goes to search.responses at once instead of lingering 5 ms for company: a lingering
   * record reached the broker in the middle of the next query's TensorFlow run and slowed it
   * (RATIONALE.md). Under load, answers that arrive while a send is in flight still share a batch.
   * A send blocks the shopper's request for at most 250 ms (Kafka's default is 60 s) when the
   * broker is away long enough to fill the send buffer, or the topic's metadata is missing: the
   * answer is then not archived (counted, logged) rather than late. Sent one at a time, an answer
   * of a few hundred bytes is a batch of its own: compressed, it saved no bytes and cost the
   * producer LZ4's buffers and checksum, and the broker a decompression to validate it, per query.
   */
  static final Map<String, String> PRODUCER_DEFAULTS = Map.of("linger.ms", "0", "max.block.ms", "250",
      "compression.type", "none");

  /** Wires with the model client as query embedder. */
  public static SearchApiService wire(Config config, ServiceHost host) throws IOException {
    apiKeys(config); // before anything connects: a bad key stops the start with exit 2, not 3
    PipelineService pipeline = new PipelineService(NAME, config, host, PRODUCER_DEFAULTS);
    ObjectStore store = ObjectStore.fromConfig(config, false);
    // Reported, not gating readiness: searches answer from the loaded indexes and never touch the
    // store, and one failed call (a 503 SlowDown, a credential rotation's 403) made every replica
    // unready at once. What needs it (a version's load, similar items) answers its own error.
    pipeline.add(Component.reportedOnly(store));
    // A shopper waits on every call: the model server runs them ahead of the catalog's embedding.
    ModelClient model = new ModelClient(config, pipeline.tracing(), ModelClient.Priority.INTERACTIVE);
    // Reported on /readyz, not gating it: every replica shares the one model server, so a restart
    // of it would leave the Service without endpoints; each search answers 503 model_unavailable
    // with Retry-After meanwhile, and what needs no model still answers (RATIONALE.md).
    pipeline.add(Component.reportedOnly(model));
    // The catalog's own work (stand-in vectors during a model rollout) goes as bulk, behind queries.
    ModelClient catalogModel = new ModelClient(config, pipeline.tracing(), ModelClient.Priority.BULK,
        "model-client-catalog");
    pipeline.add(Component.reportedOnly(catalogModel));
    return wire(config, pipeline, store, new ModelClientEmbedder(model), new ModelClientEmbedder(catalogModel));
  }

  /** Wires with a given embedder (another model transport); the store must already be added. */
  public static SearchApiService wire(Config config, PipelineService pipeline, ObjectStore store,
      QueryEmbedder embedder) throws IOException {
    return wire(config, pipeline, store, embedder, embedder);
  }

  /**
   * Tunes the process's native libraries for search-api's queries, for the whole process, so not
   * part of the wiring: search-api's main calls it, and a JVM that runs other services beside it
   * (the demo, the benchmarks) decides for all of them. Queries come one per call on many request
   * threads: every exhaustive search (exact shards, the rescoring of refined graphs) goes through
   * BLAS, an order of magnitude faster here than FAISS's one-by-one distances (RATIONALE.md), with
   * one BLAS thread so concurrent requests each compute on their own thread instead of queueing for
   * OpenBLAS's shared pool. An index-builder in the same process then trains on one BLAS thread.
   */
  public static void tuneProcessForQueries() {
    BlasThreads.setForProcess(1);
    ExhaustiveSearchBlas.setThreshold(1);
  }

  /**
   * Wires with {@code embedder} for shoppers' queries and {@code catalogEmbedder} for the
   * service's own catalog work (rollout stand-ins), which must not go ahead of queries.
   */
  public static SearchApiService wire(Config config, PipelineService pipeline, ObjectStore store,
      QueryEmbedder embedder, QueryEmbedder catalogEmbedder) throws IOException {
    var registry = pipeline.registry();
    ApiKeys keys = apiKeys(config);
    // Only tenants a key can reach are served: their indexes loaded, their products kept.
    java.util.Set<String> keyedTenants = keys.tenants();
    CatalogView catalog = new CatalogView(java.time.Clock.systemUTC(), keyedTenants::contains);
    TenantDeltas deltas = new TenantDeltas(config.get(SearchApiSettings.FRESH_DELTA_MAX_VECTORS));
    FreshnessFollower[] follower = new FreshnessFollower[1];
    TenantIndexes indexes = new TenantIndexes(index -> {
      deltas.rebase(index);
      if (follower[0] != null) {
        follower[0].rewindEmbeddings(index.manifest().embeddingsOffsets());
      }
    });
    ScratchDirectory scratch = pipeline.add(new ScratchDirectory(SearchApiSettings.indexDir(config)));
    // The shards of every tenant's loaded versions (two of a tenant during its swap) live outside
    // the heap: a version that does not fit is not loaded rather than the container killed.
    NativeMemoryBudget nativeMemory = NativeMemoryBudget.of(config.get(SearchApiSettings.NATIVE_MEMORY_BYTES));
    GaugeWithCallback.builder().name("search_index_native_memory_reserved_bytes")
        .help("Native memory reserved by the index versions loaded and loading, of SEARCH_NATIVE_MEMORY_BYTES")
        .callback(cb -> cb.call(nativeMemory.reserved())).register(registry);
    if (nativeMemory.bytesAllowed() != Long.MAX_VALUE) {
      GaugeWithCallback.builder().name("search_index_native_memory_allowed_bytes")
          .help("Native memory the loaded index versions may take together (" + nativeMemory.basis() + ")")
          .callback(cb -> cb.call(nativeMemory.bytesAllowed())).register(registry);
    }
    IndexSwapper swapper = pipeline.add(new IndexSwapper(
        new IndexLoader(store, scratch.path(), nativeMemory), indexes,
        config.get(SearchApiSettings.INDEX_POLL), registry, pipeline.activity(), pipeline.tracing().tracer(),
        keyedTenants::contains, config.get(SearchApiSettings.INDEX_LOAD_THREADS)));
    ServiceHost host = pipeline.host();
    RolloutReembedder standIns = pipeline.add(new RolloutReembedder(store, catalogEmbedder, RolloutReembedder.MAX_QUEUED,
        registry, pipeline.tracing().tracer()));
    follower[0] = pipeline.add(new FreshnessFollower(() -> followerConsumer(config, pipeline.instance()), catalog,
        deltas, () -> served(indexes), swapper::published, error -> host.fail(follower[0], error), registry,
        pipeline.tracing(), standIns));
    GaugeWithCallback.builder().name("search_fresh_delta_entries").help("Fresh vectors and deletions held beside the indexes")
        .callback(cb -> cb.call(deltas.totalSize())).register(registry);
    GaugeWithCallback.builder().name("search_fresh_delta_vectors")
        .help("Vectors the fresh deltas hold, all tenants, of SEARCH_FRESH_DELTA_MAX_VECTORS")
        .callback(cb -> cb.call(deltas.totalVectors())).register(registry);
    GaugeWithCallback.builder().name("search_fresh_delta_full_tenants")
        .help("Tenants whose fresh delta is full: their changes wait for their next index, deletions still apply")
        .callback(cb -> cb.call(deltas.full().size())).register(registry);
    io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("search_fresh_delta_refused_total")
        .help("Vector records not kept because their tenant's fresh delta was full")
        .callback(cb -> cb.call(deltas.refused())).register(registry);

    Authenticator auth = new Authenticator(keys);
    Admission admission = new Admission(config.get(SearchApiSettings.MAX_CONCURRENT),
        config.get(SearchApiSettings.MAX_QUEUED), config.get(SearchApiSettings.MAX_PER_TENANT),
        config.get(SearchApiSettings.QUEUE_TIMEOUT));
    IndexSearcher searcher = new IndexSearcher(catalog, pipeline.tracing().tracer(), config.get(SearchApiSettings.MAX_FETCH),
        config.get(SearchApiSettings.FILTER_EXACT_MAX_MATCHES));
    ResponsePublisher publisher = pipeline.add(
        new ResponsePublisher(pipeline.producer()::producer, pipeline.tracing(), registry));
    QueryService queries = new QueryService(indexes, deltas, catalog,
        new QueryImageDecoder(config.get(SearchApiSettings.MAX_IMAGE_PIXELS), config.get(NormalisationSettings.MAX_SIDE)),
        embedder, searcher, publisher, store,
        pipeline.tracing().tracer());
    int defaultK = config.get(SearchApiSettings.DEFAULT_K);
    long maxUpload = config.get(SearchApiSettings.MAX_UPLOAD_BYTES);
    UploadBudget bodies = UploadBudget.ofHeap(Runtime.getRuntime().maxMemory());
    // Beside search_http_requests_total{status="503"}: whether refusals come from bodies filling the budget.
    GaugeWithCallback.builder().name("search_upload_reserved_bytes")
        .help("Heap reserved now by request bodies being read and parsed, of the upload budget")
        .callback(cb -> cb.call(bodies.capacity() - bodies.available())).register(registry);

    // HTTP, then gRPC, drain their searches in flight within one SERVICE_SHUTDOWN_TIMEOUT together;
    // gRPC refuses new calls from the stop's start (beginStop), not only once HTTP has drained.
    Duration drainAllowance = config.get(RuntimeSettings.SHUTDOWN_TIMEOUT);
    Supplier<Duration> drainTimeLeft = () -> host.stopTimeLeft(drainAllowance);
    // One log of failures with a cause for HTTP and gRPC: an outage is one streak either way.
    FailureStreaks failures = new FailureStreaks(org.slf4j.LoggerFactory.getLogger(FailureStreaks.class));
    SearchGrpcServer grpc = null;
    int grpcPort = config.get(SearchApiSettings.GRPC_PORT);
    if (grpcPort >= 0) {
      grpc = pipeline.add(new SearchGrpcServer(config.get(SearchApiSettings.GRPC_HOST), grpcPort,
          (int) Math.min(Integer.MAX_VALUE, maxUpload + 64 * 1024), bodies,
          new VisualSearchService(auth, queries, admission, defaultK, pipeline.activity(), failures), pipeline.tracing(),
          config.get(SearchApiSettings.GRPC_MESSAGE_TIMEOUT), registry, drainTimeLeft));
    }
    String staticDir = config.get(SearchApiSettings.STATIC_DIR);
    ApiRoutes routes = new ApiRoutes(auth, queries, new SearchRequestParser(maxUpload, defaultK), admission, maxUpload,
        pipeline.tracing(), new StaticFiles(staticDir == null ? null : Path.of(staticDir)),
        () -> ReadinessReport.of(host.components()), registry,
        HealthPages.wire(config, host, NAME + "-" + pipeline.instance()), pipeline.activity(), bodies, failures);
    HttpApi http = pipeline.add(new HttpApi(config.get(SearchApiSettings.HTTP_HOST),
        config.get(SearchApiSettings.HTTP_PORT), routes, admission.capacity(), drainTimeLeft,
        config.get(SearchApiSettings.HTTP_MAX_CONNECTIONS)));
    pipeline.heartbeat();
    return new SearchApiService(http, pipeline.ops(), grpc, indexes, swapper, catalog, deltas);
  }

  private static Collection<LoadedIndex> served(TenantIndexes indexes) {
    List<LoadedIndex> out = new ArrayList<>();
    for (String tenant : indexes.servedVersions().keySet()) {
      indexes.acquire(tenant).ifPresent(lease -> {
        try (lease) {
          out.add(lease.index());
        }
      });
    }
    return out;
  }

  /** A short, shared or malformed key is a configuration error (exit 2), named without the key. */
  private static ApiKeys apiKeys(Config config) throws IOException {
    try {
      return ApiKeys.parse(apiKeyPairs(config));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(List.of("SEARCH_API_KEYS / SEARCH_API_KEYS_FILE: " + e.getMessage()
          + " (entries counted through SEARCH_API_KEYS, then the file's lines that are not blank or #)"));
    }
  }

  private static List<String> apiKeyPairs(Config config) throws IOException {
    List<String> pairs = new ArrayList<>(config.get(SearchApiSettings.API_KEYS));
    String file = config.get(SearchApiSettings.API_KEYS_FILE);
    if (file != null) {
      pairs.addAll(ApiKeys.readFile(Path.of(file)));
    }
    return pairs;
  }

  /** A group-less consumer: every instance reads every record and commits nothing. */
  private static KafkaConsumer<byte[], byte[]> followerConsumer(Config config, String instance) {
    Properties p = KafkaSettings.common(config);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, NAME + "-" + instance + "-follower");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  public int httpPort() {
    return http.port();
  }

  /** The ops port: /healthz, /readyz with every check's detail, /metrics. */
  public int opsPort() {
    return ops.port();
  }

  /** The gRPC port, or -1 when gRPC is disabled. */
  public int grpcPort() {
    return grpc == null ? -1 : grpc.port();
  }

  public TenantIndexes indexes() {
    return indexes;
  }

  public IndexSwapper swapper() {
    return swapper;
  }

  public CatalogView catalog() {
    return catalog;
  }

  public TenantDeltas deltas() {
    return deltas;
  }
}
