package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.tracing.Tracing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a tenant's build publishes and collects, by trigger, over a bucket in memory: a periodic
 * check of a catalog its version covers publishes only what a rebuild would change, and checks
 * that publish nothing still collect old versions.
 */
class TenantBuildTest {

  private static final String TENANT = "acme";
  private static final Duration RETENTION = Duration.ofHours(2);

  @TempDir
  Path scratch;

  private final ManualClock clock = new ManualClock();
  private final MemoryBucket bucket = new MemoryBucket();
  private final IndexJson json = new IndexJson();
  private final Catalogs catalogs = new Catalogs(0, clock);
  private final EmbeddingDecoder decoder = new EmbeddingDecoder(List.of("default"));
  private final Random random = new Random(7);
  /** The settings that choose the recipe, as an operator may change them before a restart. */
  private final AtomicInteger exactThreshold = new AtomicInteger(20_000);
  private final AtomicInteger efSearch = new AtomicInteger(64);
  private final AtomicReference<String> factory = new AtomicReference<>();
  private final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
      new ByteArraySerializer());
  private long offset;

  @AfterEach
  void close() {
    bucket.close();
  }

  /** A build as the service wires it; a new one is what a restart starts with. */
  private TenantBuild newBuild() {
    Tracing tracing = Tracing.withExporter(IndexBuilderService.NAME, SpanExporter.composite());
    return new TenantBuild(new TenantBuild.Parts(catalogs, bucket.store, json,
        new ModelSelection(1.0, 0.9, Duration.ofMinutes(10)), new ShardBuilder(250_000, 1, scratch),
        new VersionWriter(bucket.store, json), new PublicationAnnouncer(() -> producer, tracing),
        new VersionCollector(bucket.store, new RetentionPolicy(RETENTION, 10)), new IndexVersions(),
        (n, d) -> IndexRecipe.choose(n, d, exactThreshold.get(), 2_000_000, factory.get(), 16, efSearch.get()),
        tracing, new BuildMetrics(new PrometheusRegistry()), clock,
        new AnnouncedVersions(() -> {
          throw new UnsupportedOperationException("not read in these tests");
        }, "index.published", Duration.ofSeconds(1))));
  }

  private void upsert(String sku, long modelVersion) throws Exception {
    float[] v = new float[4];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) random.nextGaussian();
    }
    catalogs.apply(decoder.decode(Records.upsert(TENANT, sku, modelVersion, offset, v), SpanContext.getInvalid()), 0,
        offset++, clock.millis());
  }

  private void delete(String sku) throws Exception {
    catalogs.apply(decoder.decode(Records.tombstone(TENANT, sku, offset), SpanContext.getInvalid()), 0, offset++,
        clock.millis());
  }

  private void products(int n) throws Exception {
    for (int i = 0; i < n; i++) {
      upsert("p-" + i, 1);
    }
  }

  private static BuildMetrics.Outcome run(TenantBuild build, RebuildSchedule.Trigger trigger) throws Exception {
    return build.run(new RebuildSchedule.Ticket(TENANT, trigger, null)).outcome();
  }

  private byte[] current() {
    return bucket.bytes(IndexLayout.currentPointer(TENANT));
  }

  private IndexManifest currentManifest() throws Exception {
    return json.manifest(bucket.bytes(json.pointer(current()).manifestKey()));
  }

  private Set<String> versions() {
    return StoredVersions.of(bucket.store, TENANT);
  }

  /** A rebuild would retrain on the same sample and publish the same index, which every replica loaded again. */
  @Test
  void aPeriodicCheckOfAnUnchangedCatalogPublishesNothing() throws Exception {
    TenantBuild build = newBuild();
    products(3);
    assertEquals(BuildMetrics.Outcome.PUBLISHED, run(build, RebuildSchedule.Trigger.CHANGED));
    byte[] published = current();
    Set<String> stored = versions();

    clock.advance(Duration.ofHours(6));
    assertEquals(BuildMetrics.Outcome.UP_TO_DATE, run(build, RebuildSchedule.Trigger.PERIODIC));
    assertArrayEquals(published, current(), "CURRENT not flipped");
    assertEquals(stored, versions());
  }

  /**
   * What the periodic rebuild is for: debounced builds reuse the tenant's training, fitted to the
   * catalog as it was, and the periodic one fits it again, once.
   */
  @Test
  void aPeriodicCheckRetrainsAVersionBuiltOnAnEarlierTrainingOnce() throws Exception {
    factory.set("IVF{nlist},Flat");
    TenantBuild build = newBuild();
    products(100);
    assertEquals(BuildMetrics.Outcome.PUBLISHED, run(build, RebuildSchedule.Trigger.CHANGED));
    assertEquals("IVF2,Flat", currentManifest().factory());
    assertEquals(BuildMetrics.Outcome.UP_TO_DATE, run(build, RebuildSchedule.Trigger.PERIODIC),
        "trained on its own vectors");

    upsert("p-5", 1);
    assertEquals(BuildMetrics.Outcome.PUBLISHED, run(build, RebuildSchedule.Trigger.CHANGED), "reusing the training");
    assertEquals(BuildMetrics.Outcome.PUBLISHED, run(build, RebuildSchedule.Trigger.PERIODIC), "retrained");
    assertEquals(BuildMetrics.Outcome.UP_TO_DATE, run(build, RebuildSchedule.Trigger.PERIODIC));

    TenantBuild restarted = newBuild();
    assertEquals(BuildMetrics.Outcome.PUBLISHED, run(restarted, RebuildSchedule.Trigger.PERIODIC),
        "a version of an earlier run may have reused a training");
    assertEquals(BuildMetrics.Outcome.UP_TO_DATE, run(restarted, RebuildSchedule.Trigger.PERIODIC));
  }

  /** An unchanged catalog still gets a recipe the settings now choose, as when every periodic rebuild published. */
  @Test
  void aPeriodicCheckRebuildsAnUnchangedCatalogWhoseRecipeTheSettingsChanged() throws Exception {
    exactThreshold.set(10);
    products(30);
    assertEquals(BuildMetrics.Outcome.PUBLISHED, run(newBuild(), RebuildSchedule.Trigger.CHANGED));
    assertEquals("efSearch=64", currentManifest().searchParameters());

    efSearch.set(128);
    TenantBuild restarted = newBuild();
    assertEquals(BuildMetrics.Outcome.UP_TO_DATE, run(restarted, RebuildSchedule.Trigger.STARTUP),
        "not every tenant at once at start-up");
    assertEquals(BuildMetrics.Outcome.PUBLISHED, run(restarted, RebuildSchedule.Trigger.PERIODIC));
    assertEquals("efSearch=128", currentManifest().searchParameters());
    assertEquals(BuildMetrics.Outcome.UP_TO_DATE, run(restarted, RebuildSchedule.Trigger.PERIODIC));
  }

  /**
   * A retailer empties the catalog: the empty version is published, the full one before it kept,
   * and nothing is built for the tenant again. Its periodic checks delete the full one once the
   * empty one has been current for the retention period.
   */
  @Test
  void anEmptiedCatalogsFullVersionIsDeletedByALaterCheckAfterTheRetentionPeriod() throws Exception {
    TenantBuild build = newBuild();
    products(3);
    assertEquals(BuildMetrics.Outcome.PUBLISHED, run(build, RebuildSchedule.Trigger.CHANGED));
    String full = json.pointer(current()).version();
    for (int i = 0; i < 3; i++) {
      delete("p-" + i);
    }
    clock.advance(Duration.ofMinutes(1));
    assertEquals(BuildMetrics.Outcome.PUBLISHED, run(build, RebuildSchedule.Trigger.CHANGED));
    String empty = json.pointer(current()).version();
    assertEquals(0, currentManifest().vectorCount());
    assertEquals(Set.of(full, empty), versions());

    clock.advance(RETENTION.minusMinutes(1));
    assertEquals(BuildMetrics.Outcome.UP_TO_DATE, run(build, RebuildSchedule.Trigger.PERIODIC));
    assertEquals(Set.of(full, empty), versions(), "a reader may still be swapping");

    clock.advance(Duration.ofMinutes(1));
    assertEquals(BuildMetrics.Outcome.UP_TO_DATE, run(build, RebuildSchedule.Trigger.PERIODIC));
    assertEquals(Set.of(empty), versions());
    assertEquals(empty, json.pointer(current()).version());
  }

  /** A start-up check that finds the tenant's build held (a model migration under way) collects as well. */
  @Test
  void aHeldStartUpCheckCollectsOldVersions() throws Exception {
    TenantBuild build = newBuild();
    products(3);
    assertEquals(BuildMetrics.Outcome.PUBLISHED, run(build, RebuildSchedule.Trigger.CHANGED));
    String first = json.pointer(current()).version();
    clock.advance(Duration.ofMinutes(1));
    upsert("p-1", 1);
    assertEquals(BuildMetrics.Outcome.PUBLISHED, run(build, RebuildSchedule.Trigger.CHANGED));
    String second = json.pointer(current()).version();
    assertEquals(Set.of(first, second), versions());

    clock.advance(RETENTION);
    upsert("p-0", 2);
    TenantBuild restarted = newBuild();
    assertEquals(BuildMetrics.Outcome.HELD, run(restarted, RebuildSchedule.Trigger.STARTUP));
    assertEquals(Set.of(second), versions());
    assertTrue(bucket.bytes(IndexLayout.manifest(TENANT, second)) != null);
  }
}
