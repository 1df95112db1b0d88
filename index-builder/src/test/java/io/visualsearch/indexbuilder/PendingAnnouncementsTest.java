package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.proto.events.IndexPublished;
import io.visualsearch.tracing.Tracing;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * A version is published once CURRENT names it; its announcement is retried on its own. Driven by
 * a producer that fails and recovers, on a clock the test moves.
 */
class PendingAnnouncementsTest {

  private final ManualClock clock = new ManualClock();
  private final MockProducer<byte[], byte[]> producer =
      new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer());
  private final AtomicBoolean producerDown = new AtomicBoolean();
  private final PendingAnnouncements pending = new PendingAnnouncements(new PublicationAnnouncer(() -> {
    if (producerDown.get()) {
      throw new IllegalStateException("producer not started");
    }
    return producer;
  }, Tracing.withExporter("test", SpanExporter.composite())),
      new BuildMetrics(new PrometheusRegistry()), clock);

  private static final String V1 = "20261122T080102Z-1";
  private static final String V2 = "20261122T080103Z-2";
  private static final String O1 = "20261122T080104Z-3";

  private static IndexManifest manifest(String tenant, String version) {
    return new IndexManifest(IndexManifest.FORMAT, tenant, version, 1L, "default", 1L, "serving_default", 8,
        "cosine", "IDMap,Flat", 3, List.of(new IndexManifest.ShardFile("shard-000.faiss", 3, 100, "ab")),
        new IndexManifest.IndexFile("skus.tsv", 10, "cd"), Map.of(0, 5L), null, null);
  }

  private List<String> sentVersions() throws Exception {
    List<String> out = new java.util.ArrayList<>();
    for (var r : producer.history()) {
      out.add(IndexPublished.parseFrom(r.value()).getIndexVersion());
    }
    return out;
  }

  @Test
  void aFailedAnnouncementIsSentAgainAfterItsBackoffUntilAcknowledged() throws Exception {
    pending.announce(manifest("acme", V1), 1L);
    assertEquals(List.of(V1), sentVersions());
    producer.errorNext(new TimeoutException("Topic index.published not present in metadata after 60000 ms."));
    assertEquals(1, pending.size());

    pending.retryDue();
    assertEquals(1, producer.history().size(), "not before the backoff");
    for (int attempt = 2; attempt <= 4; attempt++) {
      clock.advance(Duration.ofMinutes(5));
      pending.retryDue();
      assertEquals(attempt, producer.history().size());
      producer.errorNext(new TimeoutException("Expiring 1 record(s) for index.published-0"));
    }
    assertTrue(pending.overdue().contains("acme=" + V1), pending.overdue());
    assertTrue(pending.overdue().contains("Expiring 1 record"), pending.overdue());

    clock.advance(Duration.ofMinutes(5));
    pending.retryDue();
    producer.completeNext();
    assertEquals(0, pending.size());
    assertEquals("", pending.overdue());
    pending.retryDue();
    assertEquals(List.of(V1, V1, V1, V1, V1), sentVersions(), "nothing after the acknowledgement");
  }

  @Test
  void aNewerPublicationReplacesAnOlderPendingOneAndWaitsForTheBackoffInsteadOfBlockingItsBuild()
      throws Exception {
    pending.announce(manifest("acme", V1), 1L);
    producer.errorNext(new TimeoutException("broker down"));
    pending.announce(manifest("acme", V2), 2L);
    pending.announce(manifest("other", O1), 3L);
    assertEquals(List.of(V1), sentVersions(), "queued while the backoff holds");
    assertEquals(Map.of("acme", V2, "other", O1), pending.versions());

    clock.advance(Duration.ofMinutes(5));
    pending.retryDue();
    assertEquals(List.of(V1, V2, O1), sentVersions(), "v1 is not sent again: v2 replaced it");
    producer.completeNext();
    producer.completeNext();
    assertEquals(0, pending.size());
  }

  @Test
  void anOlderSendFailingAfterANewerPublicationDoesNotComeBack() throws Exception {
    pending.announce(manifest("acme", V1), 1L);
    pending.announce(manifest("acme", V2), 2L);
    producer.errorNext(new TimeoutException("v1 expired"));
    producer.completeNext();
    assertEquals(0, pending.size());
    clock.advance(Duration.ofMinutes(5));
    pending.retryDue();
    assertEquals(List.of(V1, V2), sentVersions());
  }

  @Test
  void aProducerThatRefusesOutrightLeavesTheAnnouncementPending() throws Exception {
    producerDown.set(true);
    pending.announce(manifest("acme", V1), 1L);
    assertEquals(Map.of("acme", V1), pending.versions());
    clock.advance(Duration.ofMinutes(5));
    producerDown.set(false);
    pending.retryDue();
    producer.completeNext();
    assertEquals(List.of(V1), sentVersions());
    assertEquals(0, pending.size());
  }

  /**
   * A manifest that cannot make an event (no model name) was kept and re-sent for ever, each time
   * growing the backoff every tenant waits on and ending the retry round before the tenants queued
   * behind it. It is dropped; the others go out in the same round and new ones at once.
   */
  @Test
  void anAnnouncementThatCannotBeMadeIsDroppedWithoutHoldingBackOtherTenants() throws Exception {
    pending.announce(manifest("acme", V1), 1L);
    producer.errorNext(new TimeoutException("broker down"));
    IndexManifest unnamed = new IndexManifest(IndexManifest.FORMAT, "broken", V1, 1L, null, 1L, "serving_default", 8,
        "cosine", "IDMap,Flat", 3, List.of(new IndexManifest.ShardFile("shard-000.faiss", 3, 100, "ab")),
        new IndexManifest.IndexFile("skus.tsv", 10, "cd"), Map.of(0, 5L), null, null);
    pending.announce(unnamed, 2L);
    pending.announce(manifest("other", O1), 3L);
    assertEquals(List.of(V1), sentVersions(), "queued while the backoff holds");

    clock.advance(Duration.ofMinutes(5));
    pending.retryDue();
    assertEquals(List.of(V1, V1, O1), sentVersions(), "the tenant queued behind the broken one goes out too");
    assertEquals(Map.of("acme", V1, "other", O1), pending.versions(), "the broken one is not kept");
    pending.announce(manifest("acme", V2), 4L);
    assertEquals(List.of(V1, V1, O1, V2), sentVersions(), "no backoff: the channel did not fail");
    producer.completeNext();
    producer.completeNext();
    producer.completeNext();
    assertEquals(0, pending.size());
  }
}
