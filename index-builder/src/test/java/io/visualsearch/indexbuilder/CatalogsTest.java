package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.SpanContext;
import io.visualsearch.pipeline.PoisonRecordException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class CatalogsTest {

  private static final ModelKey V1 = new ModelKey("default", 1, "serving_default", "");
  private static final ModelKey V2 = new ModelKey("default", 2, "serving_default", "");

  private final EmbeddingDecoder decoder = new EmbeddingDecoder(List.of("default"));
  private final Catalogs catalogs = new Catalogs(4, Clock.fixed(Instant.EPOCH, ZoneOffset.UTC));

  private boolean apply(ConsumerRecord<byte[], byte[]> rec) throws PoisonRecordException {
    return catalogs.apply(decoder.decode(rec, SpanContext.getInvalid()), rec.partition(), rec.offset(), rec.timestamp());
  }

  private boolean replay(ConsumerRecord<byte[], byte[]> rec, long producedAtMs) throws PoisonRecordException {
    return catalogs.replay(decoder.decode(rec, SpanContext.getInvalid()), rec.partition(), rec.offset(), producedAtMs);
  }

  private static Set<String> skus(List<ProductVector> vectors) {
    return vectors.stream().map(ProductVector::sku).collect(Collectors.toSet());
  }

  @Test
  void theLatestVectorOfEachProductCountsAndDeletesAreHonoured() throws Exception {
    assertTrue(apply(Records.upsert("acme", "a", 1, 0, 1f, 0f)));
    assertTrue(apply(Records.upsert("acme", "b", 1, 1, 0f, 1f)));
    assertTrue(apply(Records.upsert("acme", "a", 1, 2, 1f, 1f)));
    assertFalse(apply(Records.upsert("acme", "a", 1, 3, 1f, 1f)), "the same vector again is no change");
    assertTrue(apply(Records.tombstone("acme", "b", 4)));
    assertFalse(apply(Records.tombstone("acme", "never-seen", 5)), "deleting an unknown product is no change");

    TenantSnapshot s = catalogs.snapshot("acme").orElseThrow();
    assertEquals(Set.of("a"), skus(s.products()));
    assertEquals(0.7071f, s.products().get(0).vector()[0], 1e-3f);
    assertEquals(Map.of(V1, 1), s.productsPerModel());
    assertEquals(Map.of(0, 6L), s.watermarks());
    assertEquals(Map.of(0, 5L), s.lastOffsets(), "last offset that changed the tenant or deleted from it");
  }

  /**
   * Which model is being produced is judged on the records' own timestamps, newest first, and the
   * quiet period on when they reached the builder: a replay applies partitions in fetch order and
   * hours of records in seconds.
   */
  @Test
  void producedAtIsTheNewestTimestampAndArrivalIsWhenApplied() throws Exception {
    ConsumerRecord<byte[], byte[]> newer = Records.upsert("acme", "a", 2, 0, 1f, 0f);
    ConsumerRecord<byte[], byte[]> older = Records.upsert("acme", "b", 2, 0, 0f, 1f);
    catalogs.apply(decoder.decode(newer, SpanContext.getInvalid()), 0, 0, 5_000_000L);
    catalogs.apply(decoder.decode(older, SpanContext.getInvalid()), 1, 0, 4_400_000L);
    TenantSnapshot s = catalogs.snapshot("acme").orElseThrow();
    assertEquals(Map.of(V2, 5_000_000L), s.lastProducedMs(), "the newest, not the last applied");
    assertEquals(Map.of(V2, 0L), s.lastArrivalMs(), "applied at the builder's now (the fixed clock's epoch)");
  }

  /**
   * A model rollout re-embeds images.ready in log order: a small tenant's recent products wait
   * behind a large tenant's images. Its re-embedding is not stalled while the other tenant's
   * vectors of the same model keep arriving, so its new-model index is not built from part of it.
   */
  @Test
  void aReEmbeddingBusyWithAnotherTenantIsNotQuietForThisOne() throws Exception {
    ManualClock clock = new ManualClock();
    Catalogs shared = new Catalogs(4, clock);
    // A quarter may build once quiet: this is about when the quiet period runs, not how much it needs.
    ModelSelection selection = new ModelSelection(0.98, 0.25, Duration.ofMinutes(5));
    long offset = 0;
    for (String sku : List.of("a", "b", "c", "d")) {
      shared.apply(decoder.decode(Records.upsert("small", sku, 1, offset, 1f, 0f), SpanContext.getInvalid()), 0,
          offset++, clock.millis());
    }
    shared.apply(decoder.decode(Records.upsert("small", "a", 2, offset, 0f, 1f), SpanContext.getInvalid()), 0,
        offset++, clock.millis() + 1);
    for (int minute = 1; minute <= 10; minute++) {
      shared.apply(decoder.decode(Records.upsert("large", "p-" + minute, 1, offset, 1f, 0f), SpanContext.getInvalid()),
          0, offset++, clock.millis());
    }
    // A tenant that moved to version 2 long ago keeps changing: no re-embedding, it holds no one.
    shared.apply(decoder.decode(Records.upsert("moved", "m", 2, offset, 1f, 0f), SpanContext.getInvalid()), 0,
        offset++, clock.millis());
    for (int minute = 1; minute <= 10; minute++) {
      clock.advance(Duration.ofMinutes(1));
      shared.apply(decoder.decode(Records.upsert("large", "p-" + minute, 2, offset, 1f, 1f), SpanContext.getInvalid()),
          0, offset++, clock.millis());
    }
    TenantSnapshot small = shared.snapshot("small").orElseThrow();
    ModelSelection.Decision busy = selection.choose(small.productsPerModel(), small.lastArrivalMs(),
        small.lastProducedMs(), V1, 4, clock.millis());
    assertEquals(V2, busy.model());
    assertFalse(busy.build(), "10 minutes without a vector of its own, but the re-embedding runs on");

    for (int minute = 1; minute <= 5; minute++) {
      clock.advance(Duration.ofMinutes(1));
      shared.apply(decoder.decode(Records.upsert("moved", "m", 2, offset, minute, 0f), SpanContext.getInvalid()), 0,
          offset++, clock.millis());
    }
    small = shared.snapshot("small").orElseThrow();
    assertTrue(selection.choose(small.productsPerModel(), small.lastArrivalMs(), small.lastProducedMs(), V1, 4,
        clock.millis()).build(), "no product moving to version 2 anywhere for the quiet period: the stragglers no"
        + " longer hold it, whatever other tenants' ordinary changes");
  }

  @Test
  void aDeleteOfAProductCompactedAwayStillNeedsAnIndexBuiltPastIt() throws Exception {
    // After a restart: the product's upsert was compacted away, its tombstone was not, and the
    // published index was built before the delete (it covers offsets below 21 and holds the product).
    apply(Records.upsert("acme", "a", 1, 10, 1f, 0f));
    assertFalse(apply(Records.tombstone("acme", "gone", 30)));
    TenantSnapshot s = catalogs.snapshot("acme").orElseThrow();
    assertFalse(s.coveredBy(Map.of(0, 21L)), "an index from before the delete may still return the product");
    assertTrue(s.coveredBy(Map.of(0, 31L)));
  }

  @Test
  void vectorsOfTwoModelVersionsAreKeptApart() throws Exception {
    apply(Records.upsert("acme", "a", 1, 0, 1f, 0f));
    apply(Records.upsert("acme", "b", 1, 1, 0f, 1f));
    apply(Records.upsert("acme", "c", 1, 2, 1f, 1f));
    // Re-embedding with version 2 (another dimension is fine: it is another model).
    apply(Records.upsert("acme", "a", 2, 3, 1f, 0f, 0f));
    apply(Records.upsert("acme", "b", 2, 4, 0f, 1f, 0f));

    TenantSnapshot s = catalogs.snapshot("acme").orElseThrow();
    assertEquals(Map.of(V1, 1, V2, 2), s.productsPerModel());
    assertEquals(Set.of("a", "b"), skus(s.vectorsOf(V2)));
    assertEquals(Set.of("c"), skus(s.vectorsOf(V1)));
    assertTrue(s.vectorsOf(V2).stream().allMatch(p -> p.vector().length == 3));
    assertEquals(Map.of(V1, 2, V2, 3), s.dimensions());
  }

  @Test
  void aVectorOfTheWrongDimensionIsRefusedForThatTenantOnly() throws Exception {
    apply(Records.upsert("acme", "a", 1, 0, 1f, 0f));
    PoisonRecordException e = assertThrows(PoisonRecordException.class,
        () -> apply(Records.upsert("acme", "b", 1, 1, 1f, 0f, 0f)));
    assertEquals("wrong-dimension", e.reason());
    assertTrue(e.getMessage().contains("3 dimensions") && e.getMessage().contains("with 2"), e.getMessage());
    assertTrue(apply(Records.upsert("other", "b", 1, 2, 1f, 0f, 0f)), "another tenant has its own models");
    assertEquals(Set.of("a"), skus(catalogs.snapshot("acme").orElseThrow().products()));
    assertEquals(Map.of(0, 3L), catalogs.watermarks(), "a refused record is still covered");
  }

  @Test
  void recordsBelowTheWatermarkAreValidatedButNotAppliedAgain() throws Exception {
    apply(Records.upsert("acme", "a", 1, 0, 1f, 0f));
    apply(Records.upsert("acme", "a", 1, 1, 0f, 1f));
    // The consumer group resumes from offset 0 after a replay that already reached offset 2.
    assertFalse(apply(Records.upsert("acme", "a", 1, 0, 1f, 0f)));
    assertEquals(1f, catalogs.snapshot("acme").orElseThrow().products().get(0).vector()[1], 1e-6f,
        "state must not step back to the older vector");
    assertThrows(PoisonRecordException.class, () -> apply(Records.upsert("acme", "b", 1, 1, 1f, 0f, 0f)));
  }

  @Test
  void snapshotsHandOverABoundedNumberOfSpanLinks() throws Exception {
    for (int i = 0; i < 10; i++) {
      ConsumerRecord<byte[], byte[]> rec = Records.upsert("acme", "p" + i, 1, i, 1f, i);
      SpanContext origin = SpanContext.create(String.format("%032x", i + 1), String.format("%016x", i + 1),
          io.opentelemetry.api.trace.TraceFlags.getSampled(), io.opentelemetry.api.trace.TraceState.getDefault());
      catalogs.apply(decoder.decode(rec, origin), 0, i, rec.timestamp());
    }
    TenantSnapshot first = catalogs.snapshot("acme").orElseThrow();
    assertEquals(4, first.origins().size());
    assertEquals(String.format("%032x", 10), first.origins().get(3).getTraceId(), "the most recent changes are kept");
    assertEquals(0, catalogs.snapshot("acme").orElseThrow().origins().size(), "each change is linked once");
  }

  /**
   * Only additions were linked: a build of removals alone linked nothing, and a removed product's
   * trace never showed the version it left the index in.
   */
  @Test
  void aRemovalIsLinkedFromTheNextBuildAsAnAdditionIs() throws Exception {
    apply(Records.upsert("acme", "gone", 1, 0, 1f, 0f));
    catalogs.snapshot("acme"); // the addition's link handed over
    SpanContext removal = SpanContext.create(String.format("%032x", 77), String.format("%016x", 77),
        io.opentelemetry.api.trace.TraceFlags.getSampled(), io.opentelemetry.api.trace.TraceState.getDefault());
    ConsumerRecord<byte[], byte[]> tombstone = Records.tombstone("acme", "gone", 1);
    assertTrue(catalogs.apply(decoder.decode(tombstone, removal), 0, 1, tombstone.timestamp()));
    assertEquals(java.util.List.of(removal), catalogs.snapshot("acme").orElseThrow().origins());
  }

  /**
   * The compacted topic still holds a vector refused live for its dimension as the latest of its
   * product, and the replay happens to apply it first: it must not fix the tenant's dimension.
   */
  @Test
  void theReplaySettlesADimensionOnTheMajorityNotOnTheFirstApplied() throws Exception {
    replay(Records.upsertOn(1, "acme", "bad", 1, 0, 512), 9_000);
    for (int i = 0; i < 10; i++) {
      replay(Records.upsertOn(0, "acme", "p" + i, 1, i, 768), 1_000 + i);
    }
    int refused = catalogs.settleDimensions();

    TenantSnapshot s = catalogs.snapshot("acme").orElseThrow();
    assertEquals(10, s.products().size());
    assertTrue(s.products().stream().allMatch(p -> p.vector().length == 768));
    assertEquals(Map.of(V1, 768), s.dimensions());
    assertEquals(1, refused);
    assertEquals(Map.of(V1, 10), s.productsPerModel());
    assertEquals(Map.of(V1, 1_009L), s.lastProducedMs(), "a refused vector is not what is being produced");
    assertEquals(Map.of(0, 9L), s.lastOffsets(), "nor a change an index must cover");
    assertEquals(Map.of(0, 10L, 1, 1L), s.watermarks(), "but it was seen");

    // Live again: the settled dimension holds.
    PoisonRecordException e = assertThrows(PoisonRecordException.class,
        () -> apply(Records.upsertOn(1, "acme", "bad2", 1, 1, 512)));
    assertEquals("wrong-dimension", e.reason());
    assertTrue(apply(Records.upsertOn(0, "acme", "p10", 1, 10, 768)));
  }

  @Test
  void aProductWhoseLatestVectorLosesKeepsItsEarlierOneWhenTheTopicStillHoldsIt() throws Exception {
    replay(Records.upsertOn(0, "acme", "a", 1, 0, 3), 1);
    replay(Records.upsertOn(0, "acme", "b", 1, 1, 3), 2);
    replay(Records.upsertOn(0, "acme", "a", 1, 2, 2), 3);
    replay(Records.upsertOn(0, "acme", "c", 1, 3, 2), 4);
    replay(Records.upsertOn(0, "acme", "d", 1, 4, 3), 5);
    // A product that moved on to another model: what it held of the first no longer matters.
    replay(Records.upsertOn(0, "acme", "d", 2, 5, 4), 6);
    replay(Records.upsertOn(0, "acme", "e", 1, 6, 3), 7);
    replay(Records.upsertOn(0, "acme", "f", 1, 7, 3), 8);
    assertEquals(2, catalogs.settleDimensions(), "a (back to its 3-d vector) and c (dropped)");

    TenantSnapshot s = catalogs.snapshot("acme").orElseThrow();
    assertEquals(Set.of("a", "b", "d", "e", "f"), skus(s.products()));
    assertEquals(3, s.products().stream().filter(p -> p.sku().equals("a")).findFirst().orElseThrow().vector().length);
    assertEquals(Map.of(V1, 3, V2, 4), s.dimensions());
    assertEquals(Map.of(V1, 4, V2, 1), s.productsPerModel());
  }

  @Test
  void aTiedVoteGoesToTheDimensionProducedLast() throws Exception {
    replay(Records.upsertOn(0, "acme", "a", 1, 0, 3), 2_000);
    replay(Records.upsertOn(1, "acme", "b", 1, 0, 2), 1_000);
    assertEquals(1, catalogs.settleDimensions());
    assertEquals(Map.of(V1, 3), catalogs.snapshot("acme").orElseThrow().dimensions());
  }

  @Test
  void aDeleteDuringTheReplayForgetsEveryVectorOfTheProduct() throws Exception {
    replay(Records.upsertOn(0, "acme", "a", 1, 0, 3), 1);
    replay(Records.upsertOn(0, "acme", "a", 1, 1, 2), 2);
    replay(Records.tombstone("acme", "a", 2), 3);
    replay(Records.upsertOn(0, "acme", "a", 1, 3, 2), 4);
    replay(Records.upsertOn(0, "acme", "b", 1, 4, 3), 5);
    replay(Records.upsertOn(0, "acme", "c", 1, 5, 3), 6);
    assertEquals(1, catalogs.settleDimensions());
    assertEquals(Set.of("b", "c"), skus(catalogs.snapshot("acme").orElseThrow().products()),
        "the 3-d vector of a from before its delete must not come back");
  }
}
