package io.visualsearch.indexbuilder;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.ConsumerLoop;
import io.visualsearch.pipeline.PipelineService;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ScratchDirectory;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.topics.Topics;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Wires the index builder with plain constructors onto a {@link ServiceHost}, in start order:
 * the pipeline's tracing, ops endpoint and producer; the object store; the replay of the
 * embeddings topic (start returns once the catalogs are rebuilt); the build thread; the consumer
 * loop; the heartbeat. Nothing is global, so several services can share one JVM.
 */
public final class IndexBuilderService {

  public static final String NAME = "index-builder";

  private final PipelineService pipeline;
  private final Catalogs catalogs;

  private IndexBuilderService(PipelineService pipeline, Catalogs catalogs) {
    this.pipeline = pipeline;
    this.catalogs = catalogs;
  }

  /** Every setting the service reads, except the runtime's own (ServiceMain adds those). */
  public static ConfigDef definition() {
    return new ConfigDef().include(PipelineService.definition()).include(ObjectStoreSettings.definition())
        .include(IndexBuilderSettings.definition());
  }

  public static IndexBuilderService wire(Config config, ServiceHost host) {
    Clock clock = Clock.systemUTC();
    PipelineService pipeline = new PipelineService(NAME, config, host);
    ObjectStore store = pipeline.add(ObjectStore.fromConfig(config, false));

    Catalogs catalogs = new Catalogs(config.get(IndexBuilderSettings.TRACE_LINKS), clock);
    RebuildSchedule schedule = new RebuildSchedule(config.get(IndexBuilderSettings.DEBOUNCE_QUIET),
        config.get(IndexBuilderSettings.DEBOUNCE_MAX_DELAY), config.get(IndexBuilderSettings.PERIODIC_INTERVAL));
    EmbeddingIntake intake = new EmbeddingIntake(new EmbeddingDecoder(config.get(IndexBuilderSettings.MODEL_NAMES)),
        catalogs, schedule, pipeline.tracing(), clock);

    IndexJson json = new IndexJson();
    int exact = config.get(IndexBuilderSettings.EXACT_THRESHOLD);
    int pq = config.get(IndexBuilderSettings.PQ_THRESHOLD);
    String factory = config.get(IndexBuilderSettings.FACTORY);
    int nprobe = config.get(IndexBuilderSettings.NPROBE);
    int efSearch = config.get(IndexBuilderSettings.EF_SEARCH);
    ScratchDirectory scratch = pipeline.add(new ScratchDirectory(Path.of(config.get(IndexBuilderSettings.SCRATCH_DIR))));
    ShardBuilder shards = new ShardBuilder(config.get(IndexBuilderSettings.SHARD_MAX_VECTORS),
        config.get(IndexBuilderSettings.BUILD_THREADS), scratch.path());
    BuildMetrics metrics = new BuildMetrics(pipeline.registry(), pipeline.activity());
    AnnouncedVersions announced = new AnnouncedVersions(() -> pipeline.kafkaClients().consumer(NAME + "-announced",
        NAME + "-announced-" + pipeline.instance()), Topics.INDEX_PUBLISHED.name(),
        config.get(IndexBuilderSettings.REPLAY_TIMEOUT));
    TenantBuild build = new TenantBuild(new TenantBuild.Parts(catalogs, store, json,
        new ModelSelection(config.get(IndexBuilderSettings.MIGRATION_COVERAGE),
            config.get(IndexBuilderSettings.MIGRATION_QUIET_COVERAGE), config.get(IndexBuilderSettings.MIGRATION_QUIET)),
        shards, new VersionWriter(store, json),
        new PublicationAnnouncer(pipeline.producer()::producer, pipeline.tracing()),
        new VersionCollector(store, new RetentionPolicy(config.get(IndexBuilderSettings.RETENTION),
            config.get(IndexBuilderSettings.RETAIN_VERSIONS))),
        new IndexVersions(), (n, d) -> IndexRecipe.choose(n, d, exact, pq, factory, nprobe, efSearch),
        pipeline.tracing(), metrics, clock, announced));

    String instance = pipeline.instance();
    pipeline.add(new EmbeddingsReplay(
        () -> pipeline.kafkaClients().consumer(NAME + "-replay", NAME + "-replay-" + instance),
        Topics.EMBEDDINGS.name(), intake, catalogs, schedule, config.get(IndexBuilderSettings.REPLAY_TIMEOUT), clock));
    // Read before the build thread starts: its start-up checks ask it.
    pipeline.add(announced);
    // The scheduler starts before its intake (intake last), so it is handed the loop once wired.
    AtomicReference<ConsumerLoop> intakeLoop = new AtomicReference<>();
    AtomicReference<BuildScheduler> scheduler = new AtomicReference<>();
    GroupOffsets committed = new GroupOffsets(() -> pipeline.kafkaClients().consumer(
        pipeline.kafkaClients().groupId(NAME), NAME + "-offsets-" + instance), Topics.EMBEDDINGS.name());
    scheduler.set(pipeline.add(new BuildScheduler(schedule, build, shards, metrics, clock,
        config.get(RuntimeSettings.SHUTDOWN_TIMEOUT),
        new IntakeGate(intakeLoop::get, catalogs, committed, clock, e -> host.fail(scheduler.get(), e)))));
    intakeLoop.set(pipeline.consume(List.of(Topics.EMBEDDINGS.name()), intake));
    pipeline.heartbeat();
    return new IndexBuilderService(pipeline, catalogs);
  }

  public PipelineService pipeline() {
    return pipeline;
  }

  /** Products currently held for a tenant (any model version); for the demo's progress output. */
  public int products(String tenant) {
    return catalogs.products(tenant);
  }
}
