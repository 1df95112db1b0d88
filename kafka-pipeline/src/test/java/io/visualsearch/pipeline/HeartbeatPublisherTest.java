package io.visualsearch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.proto.events.Heartbeat;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** What a heartbeat says about the process sending it (the broker's part is ITHealthPage's). */
class HeartbeatPublisherTest {

  static io.visualsearch.runtime.ReadinessReport ready() {
    return new io.visualsearch.runtime.ReadinessReport(true, java.util.Map.of(), java.util.Set.of());
  }

  static List<Heartbeat> beats(MockProducer<byte[], byte[]> producer) throws Exception {
    List<Heartbeat> out = new java.util.ArrayList<>();
    for (var r : producer.history()) {
      out.add(Heartbeat.parseFrom(r.value()));
    }
    return out;
  }

  @Test
  void everyBeatOfOneProcessCarriesItsStartAndAnotherProcessUnderTheSameNameAnother() throws Exception {
    MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
        new ByteArraySerializer());
    HeartbeatPublisher first = new HeartbeatPublisher("index-builder", "builder-0",
        new Activity(new PrometheusRegistry()), () -> producer, Duration.ofHours(1), HeartbeatPublisherTest::ready, () -> false);
    first.start();
    first.beat();
    first.close(); // beats once more as it stops
    Thread.sleep(5);
    HeartbeatPublisher second = new HeartbeatPublisher("index-builder", "builder-0",
        new Activity(new PrometheusRegistry()), () -> producer, Duration.ofHours(1), HeartbeatPublisherTest::ready, () -> false);
    second.start();
    second.close();
    List<Heartbeat> beats = beats(producer);
    long firstStart = beats.get(0).getStartedAtMs();
    long lastStart = beats.get(beats.size() - 1).getStartedAtMs();
    assertTrue(firstStart > 0);
    assertNotEquals(firstStart, lastStart, "the health page tells the two processes apart");
    // The timer's first beat may or may not have run: the two explicit beats of the first are there.
    assertTrue(beats.stream().filter(b -> b.getStartedAtMs() == firstStart).count() >= 2, beats.toString());
    assertTrue(beats.stream().allMatch(b -> b.getStartedAtMs() == firstStart || b.getStartedAtMs() == lastStart),
        "one start per process, the same on each of its beats");
    assertEquals("builder-0", beats.get(beats.size() - 1).getInstance());
  }

  /** A broker refusing the writes (no WRITE on service.health) failed every beat unseen. */
  @Test
  void beatsTheBrokerRefusesShowInTheCheckUntilOneIsWrittenAgain() {
    MockProducer<byte[], byte[]> producer = new MockProducer<>(false, null, new ByteArraySerializer(),
        new ByteArraySerializer());
    HeartbeatPublisher publisher = new HeartbeatPublisher("image-indexer", "indexer-0",
        new Activity(new PrometheusRegistry()), () -> producer, Duration.ofHours(1), HeartbeatPublisherTest::ready, () -> false);
    publisher.start();
    try {
      publisher.beat();
      // The timer's first beat may be in flight too: each one sent so far is refused.
      while (producer.errorNext(new org.apache.kafka.common.errors.TopicAuthorizationException("service.health"))) {
        // next
      }
      assertTrue(publisher.check().ok(), "reported, not a readiness failure");
      assertTrue(publisher.check().detail().contains("last heartbeat not written: TopicAuthorizationException"),
          publisher.check().detail());
      publisher.beat();
      while (producer.completeNext()) {
        // next
      }
      assertEquals("ok", publisher.check().detail());
    } finally {
      publisher.close();
    }
  }

  @Test
  void theBeatSentAsItStopsSaysNotReadyStoppingThoughItsLoopsStillSayReady() throws Exception {
    MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
        new ByteArraySerializer());
    HeartbeatPublisher publisher = new HeartbeatPublisher("image-indexer", "indexer-0",
        new Activity(new PrometheusRegistry()), () -> producer, Duration.ofHours(1), HeartbeatPublisherTest::ready, () -> false);
    publisher.start();
    publisher.beat();
    publisher.close();
    List<Heartbeat> beats = beats(producer);
    Heartbeat last = beats.get(beats.size() - 1);
    assertFalse(last.getReady(), "a stopping instance is not shown healthy until it turns stale");
    assertEquals("stopping", last.getDetail());
    assertTrue(last.getStopping(), "the page tells a stop on request from a crash by it");
    assertTrue(beats.subList(0, beats.size() - 1).stream().allMatch(Heartbeat::getReady),
        "while running, the beats say what the loops say: " + beats);
  }

  @Test
  void theBeatSentAsItStopsAfterAFailureSaysFailedNotStoppedOnRequest() throws Exception {
    MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
        new ByteArraySerializer());
    HeartbeatPublisher publisher = new HeartbeatPublisher("embeddings-generator", "gen-0",
        new Activity(new PrometheusRegistry()), () -> producer, Duration.ofHours(1), HeartbeatPublisherTest::ready, () -> true);
    publisher.start();
    publisher.close();
    List<Heartbeat> beats = beats(producer);
    Heartbeat last = beats.get(beats.size() - 1);
    assertFalse(last.getStopping(), "a crash must stay an alert on the health page, not read as a rollout");
    assertFalse(last.getReady());
    assertEquals("failed", last.getDetail());
  }

  /** An unready instance's row said "not ready" and nothing more: the SRE had to find its pod's /readyz. */
  @Test
  void aBeatOfAnUnreadyInstanceNamesTheChecksThatFailButNotTheirDetails() throws Exception {
    MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
        new ByteArraySerializer());
    io.visualsearch.runtime.ReadinessReport report = new io.visualsearch.runtime.ReadinessReport(false,
        new java.util.LinkedHashMap<>(java.util.Map.of(
            "embeddings-loop", io.visualsearch.runtime.CheckResult.failed("owns 1 of 2 partitions of tenant acme"),
            "model-client", io.visualsearch.runtime.CheckResult.failed("UNAVAILABLE"),
            "object-store", io.visualsearch.runtime.CheckResult.OK)),
        java.util.Set.of("model-client"));
    HeartbeatPublisher publisher = new HeartbeatPublisher("index-builder", "builder-0",
        new Activity(new PrometheusRegistry()), () -> producer, Duration.ofHours(1), () -> report, () -> false);
    publisher.start();
    publisher.beat();
    publisher.close();
    Heartbeat beat = beats(producer).get(beats(producer).size() - 2); // the one before the stopping beat
    assertFalse(beat.getReady());
    assertEquals("embeddings-loop", beat.getDetail(), "the gating check's name; reported-only ones and details stay out");
  }
}
