package io.visualsearch.searchapi.fresh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.OpenTelemetry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.visualsearch.indexformat.ImageKeys;
import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.MemoryStore;
import io.visualsearch.searchapi.embed.QueryEmbedder;
import io.visualsearch.searchapi.index.LoadedIndex;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.lang.ref.WeakReference;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The stand-ins of a rollout's changed products: the picture read from the store, embedded with the
 * served index's model version and variant, kept by the delta; what cannot be done is counted and
 * leaves the product waiting for the new index, as before.
 */
class RolloutReembedderTest {

  static final String VARIANT = "serving_default.embedding.224px.as-is";

  final MemoryStore memory = new MemoryStore();
  final PrometheusRegistry registry = new PrometheusRegistry();
  final List<String> asked = new CopyOnWriteArrayList<>();
  final LoadedIndex v1 = ShardlessVersions.ofVariant("acme", "v1", 1, 2, Map.of(0, 10L), VARIANT);
  final FreshDelta delta = new FreshDelta();
  RolloutReembedder reembedder;

  /** A model that answers [red, green] of the picture's first pixel, at the version it is asked for. */
  QueryEmbedder model = (image, version, signature, variant) -> {
    asked.add(version + " " + signature + " " + variant);
    Color c = new Color(image.getRGB(0, 0));
    if (c.getBlue() == 255) {
      throw ApiException.unavailable("model_unavailable", "down", 2, null);
    }
    return new QueryEmbedder.QueryVector(new float[] {c.getRed(), c.getGreen()}, "default", version, signature,
        variant);
  };

  void start(int maxQueued) {
    start(maxQueued, OpenTelemetry.noop().getTracer("test"));
  }

  void start(int maxQueued, io.opentelemetry.api.trace.Tracer tracer) {
    delta.rebase(v1);
    reembedder = new RolloutReembedder(memory.store, (image, version, signature, variant) ->
        model.embed(image, version, signature, variant), maxQueued, registry, tracer);
    reembedder.start();
  }

  /**
   * The stand-in is the step that makes a changed product searchable during a rollout: started
   * from the root on its worker thread, it and its model call were a trace of their own, and the
   * product's trace stopped at the record's arrival.
   */
  @Test
  void theStandInIsTracedUnderTheRecordThatBroughtTheChange() throws Exception {
    io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter spans =
        io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter.create();
    try (io.opentelemetry.sdk.trace.SdkTracerProvider provider = io.opentelemetry.sdk.trace.SdkTracerProvider.builder()
        .addSpanProcessor(io.opentelemetry.sdk.trace.export.SimpleSpanProcessor.create(spans)).build()) {
      io.opentelemetry.api.trace.Tracer tracer = provider.get("test");
      start(10, tracer);
      picture(sha('a'), Color.RED);
      io.opentelemetry.api.trace.Span follow = tracer.spanBuilder("embeddings follow").startSpan();
      try (io.opentelemetry.context.Scope ignored = follow.makeCurrent()) {
        arrive("sku-new", 11, sha('a'));
      } finally {
        follow.end();
      }
      awaitCount("embedded", 1);
      var standIn = spans.getFinishedSpanItems().stream()
          .filter(sp -> sp.getName().equals("embed stand-in for served model")).findFirst().orElseThrow();
      assertEquals(follow.getSpanContext().getTraceId(), standIn.getTraceId());
      assertEquals(follow.getSpanContext().getSpanId(), standIn.getParentSpanId());
      assertEquals("acme", standIn.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("tenant")));
    }
  }

  @AfterEach
  void stop() {
    if (reembedder != null) {
      reembedder.close();
    }
  }

  static String sha(char c) {
    return String.valueOf(c).repeat(64);
  }

  void picture(String sha, Color color) throws Exception {
    BufferedImage image = new BufferedImage(8, 8, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = image.createGraphics();
    g.setColor(color);
    g.fillRect(0, 0, 8, 8);
    g.dispose();
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(image, "png", png);
    memory.objects.put("images/" + sha, png.toByteArray());
  }

  /** A version-2 record of {@code sku}, handed over as the follower does. */
  DeltaEntry arrive(String sku, long offset, String sha) {
    DeltaEntry e = new DeltaEntry(sku, 0, offset, "default", 2, "serving_default", VARIANT, new float[] {1, 1, 1},
        ImageKeys.of(sha));
    delta.accept(e);
    reembedder.arrived(delta, e, sha);
    return e;
  }

  double count(String outcome) {
    for (MetricSnapshot s : registry.scrape()) {
      if (s.getMetadata().getName().equals("search_rollout_stand_ins")) {
        return ((CounterSnapshot) s).getDataPoints().stream()
            .filter(d -> outcome.equals(d.getLabels().get("outcome"))).mapToDouble(d -> d.getValue()).sum();
      }
    }
    return 0;
  }

  void awaitCount(String outcome, double n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (count(outcome) < n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(n, count(outcome), outcome);
  }

  @Test
  void aNewPictureIsEmbeddedWithTheServedVersionAndVariantAndSearchedInItsIndex() throws Exception {
    start(10);
    picture(sha('a'), Color.RED);
    arrive("sku-new", 11, sha('a'));
    awaitCount("embedded", 1);
    assertEquals(List.of("1 serving_default " + VARIANT), asked, "the served index's model, not the record's");
    FreshDelta.Snapshot s = delta.snapshot(v1);
    assertArrayEquals(new float[] {1, 0}, s.vectorOf("sku-new"), 1e-6f);
    assertEquals(1, s.searchable().get(0).modelVersion());
  }

  @Test
  void whatCannotBeEmbeddedIsCountedAndTheNextRecordsAreStillServed() throws Exception {
    start(10);
    picture(sha('b'), Color.BLUE); // the model fails on it
    picture(sha('c'), Color.GREEN);
    arrive("sku-missing", 11, sha('d'));
    arrive("sku-failing", 12, sha('b'));
    arrive("sku-fine", 13, sha('c'));
    awaitCount("embedded", 1);
    assertEquals(1, count("image_missing"));
    assertEquals(1, count("failed"));
    FreshDelta.Snapshot s = delta.snapshot(v1);
    assertNull(s.vectorOf("sku-missing"));
    assertNull(s.vectorOf("sku-failing"));
    assertArrayEquals(new float[] {0, 1}, s.vectorOf("sku-fine"), 1e-6f);
  }

  /** From now on the model answers each call once {@code release} opens, telling {@code held} it is called. */
  private void holdTheModel(CountDownLatch held, CountDownLatch release) {
    QueryEmbedder real = model;
    model = (image, version, signature, variant) -> {
      held.countDown();
      try {
        release.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return real.embed(image, version, signature, variant);
    };
  }

  @Test
  void aRecordSupersededWhileWaitingGetsNoStandInAndAFullQueueDropsRecords() throws Exception {
    CountDownLatch modelHeld = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    holdTheModel(modelHeld, release);
    start(1);
    picture(sha('a'), Color.RED);
    arrive("sku-1", 11, sha('a'));
    assertTrue(modelHeld.await(20, TimeUnit.SECONDS));
    arrive("sku-2", 12, sha('a')); // queued
    arrive("sku-3", 13, sha('a')); // the queue is full
    assertEquals(1, count("dropped"));
    arrive("sku-2", 14, sha('a')); // sku-2 changes again while its first record waits (and is dropped too)
    release.countDown();
    awaitCount("embedded", 1);
    awaitCount("superseded", 1);
    FreshDelta.Snapshot s = delta.snapshot(v1);
    assertArrayEquals(new float[] {1, 0}, s.vectorOf("sku-1"), 1e-6f);
    assertNull(s.vectorOf("sku-2"), "its newest record was dropped with the queue full, its older one superseded");
    assertNull(s.vectorOf("sku-3"));
  }

  /**
   * Stand-ins queue behind the model's other calls for minutes; a version swapped out meanwhile
   * (its sku and image maps of every product) must not stay on the heap until they have run.
   */
  @Test
  void queuedStandInsDoNotKeepAVersionSwappedOutMeanwhileOnTheHeap() throws Exception {
    CountDownLatch modelHeld = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    holdTheModel(modelHeld, release);
    start(10);
    picture(sha('a'), Color.RED);
    try {
      WeakReference<LoadedIndex> retired = servedWhileStandInsQueue(modelHeld);
      delta.rebase(v1); // the next version of the same model is swapped in
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (retired.get() != null && System.nanoTime() < deadline) {
        System.gc();
        Thread.sleep(20);
      }
      assertNull(retired.get(), "the version swapped out is collected while its stand-ins wait");
    } finally {
      release.countDown();
    }
    // Computed for the retired version's model, they are kept for the served one of that model.
    awaitCount("embedded", 2);
    assertArrayEquals(new float[] {1, 0}, delta.snapshot(v1).vectorOf("sku-2"), 1e-6f);
  }

  /** Serves a version of its own while one stand-in runs (held by the model) and one waits. */
  private WeakReference<LoadedIndex> servedWhileStandInsQueue(CountDownLatch modelHeld) throws Exception {
    LoadedIndex served = ShardlessVersions.ofVariant("acme", "v0", 1, 2, Map.of(0, 10L), VARIANT);
    delta.rebase(served);
    arrive("sku-1", 11, sha('a'));
    assertTrue(modelHeld.await(20, TimeUnit.SECONDS));
    arrive("sku-2", 12, sha('a'));
    assertEquals(0, count("dropped"));
    return new WeakReference<>(served);
  }
}
