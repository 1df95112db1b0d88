package io.visualsearch.indexbuilder;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.pipeline.KafkaClients;
import io.visualsearch.topics.Topics;
import io.visualsearch.tracing.Tracing;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;

/** The builder's parts as IndexBuilderService wires them, on a catalog the test fills itself. */
final class Builder implements AutoCloseable {
  final Catalogs catalogs = new Catalogs(8, Clock.systemUTC());
  final RebuildSchedule schedule = new RebuildSchedule(Duration.ZERO, Duration.ZERO, Duration.ZERO);
  final PrometheusRegistry registry = new PrometheusRegistry();
  final AnnouncedVersions announced;
  final TenantBuild build;
  final BuildScheduler scheduler;
  private final EmbeddingDecoder decoder = new EmbeddingDecoder(List.of("default"));

  Builder(ObjectStore store, KafkaClients clients, String id, Supplier<Producer<byte[], byte[]>> producer) {
    IndexJson json = new IndexJson();
    Tracing tracing = Tracing.withExporter(IndexBuilderService.NAME, SpanExporter.composite());
    BuildMetrics metrics = new BuildMetrics(registry);
    ShardBuilder shards = new ShardBuilder(250_000, 1);
    announced = new AnnouncedVersions(() -> clients.consumer(id + "-announced", id + "-announced"),
        Topics.INDEX_PUBLISHED.name(), Duration.ofSeconds(60));
    build = new TenantBuild(new TenantBuild.Parts(catalogs, store, json, new ModelSelection(1.0, 0.9, Duration.ofMinutes(10)),
        shards, new VersionWriter(store, json), new PublicationAnnouncer(producer, tracing),
        new VersionCollector(store, new RetentionPolicy(Duration.ZERO, 10)), new IndexVersions(),
        (n, d) -> IndexRecipe.choose(n, d, 20_000, 2_000_000, null, 16, 64), tracing, metrics, Clock.systemUTC(),
        announced));
    // No consumer loop here: the tests drive the catalogs themselves, and every build runs.
    scheduler = new BuildScheduler(schedule, build, shards, metrics, Clock.systemUTC(), Duration.ofSeconds(30),
        new IntakeGate(() -> null, catalogs, null, Clock.systemUTC(), e -> { }));
  }

  /** Products of {@code tenant} at the given offsets of partition 0, as the intake applies them. */
  void apply(String tenant, long firstOffset, int products) throws Exception {
    apply(tenant, firstOffset, products, 1);
  }

  /** Products p-0.. of {@code tenant} embedded with {@code modelVersion}, from {@code firstOffset} of partition 0. */
  void apply(String tenant, long firstOffset, int products, long modelVersion) throws Exception {
    for (int i = 0; i < products; i++) {
      long offset = firstOffset + i;
      catalogs.apply(decoder.decode(Records.upsert(tenant, "p-" + i, modelVersion, offset, 1f, i, 2f, 0f),
          SpanContext.getInvalid()), 0, offset, System.currentTimeMillis());
    }
  }

  /** Deletions of products p-{from}..p-{to - 1} of {@code tenant}, from {@code firstOffset} of partition 0. */
  void delete(String tenant, int from, int to, long firstOffset) throws Exception {
    for (int i = from; i < to; i++) {
      long offset = firstOffset + i - from;
      catalogs.apply(decoder.decode(Records.tombstone(tenant, "p-" + i, offset), SpanContext.getInvalid()), 0,
          offset, System.currentTimeMillis());
    }
  }

  double builds(String outcome) {
    return counter("index_builder_builds", "outcome", outcome);
  }

  double counter(String name, String label, String value) {
    for (MetricSnapshot s : registry.scrape()) {
      if (s.getMetadata().getName().equals(name) && s instanceof CounterSnapshot c) {
        for (CounterSnapshot.CounterDataPointSnapshot d : c.getDataPoints()) {
          if (label == null || value.equals(d.getLabels().get(label))) {
            return d.getValue();
          }
        }
      }
    }
    return 0;
  }

  @Override
  public void close() {
    scheduler.close();
  }
}
