package io.visualsearch.indexbuilder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.pipeline.ConsumerLoop;
import io.visualsearch.tracing.Tracing;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which builds the embeddings loop lets run, on a real loop over Kafka's mock consumer. */
class IntakeGateTest {

  private static final String TOPIC = "embeddings";
  private static final RebuildSchedule.Ticket STARTUP = new RebuildSchedule.Ticket("acme",
      RebuildSchedule.Trigger.STARTUP, 1L);
  private static final RebuildSchedule.Ticket CHANGED = new RebuildSchedule.Ticket("acme",
      RebuildSchedule.Trigger.CHANGED, 1L);
  private static final RebuildSchedule.Ticket PERIODIC = new RebuildSchedule.Ticket("acme",
      RebuildSchedule.Trigger.PERIODIC, null);

  private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
  private final Tracing tracing = Tracing.withExporter("gate-test", SpanExporter.composite());
  private final ConsumerLoop loop = new ConsumerLoop("gate-test", List.of(TOPIC), () -> consumer,
      () -> new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()), (rec, out) -> { },
      tracing, new Activity(new PrometheusRegistry()), Duration.ofMillis(50), Duration.ofMillis(200), e -> { });
  private final Catalogs catalogs = new Catalogs(0, Clock.systemUTC());
  /** What the group has committed, as the broker keeps it for every member. */
  private final Map<TopicPartition, OffsetAndMetadata> groupCommits = new ConcurrentHashMap<>();
  private final List<IllegalStateException> stops = new ArrayList<>();
  private final ManualClock clock = new ManualClock();
  /** The group's consumers the gate opens to read its commits; a test may make them slow or failing. */
  private volatile Supplier<Consumer<byte[], byte[]>> groupConsumers = this::groupMember;
  private final AtomicInteger lookups = new AtomicInteger();
  private final IntakeGate gate = new IntakeGate(() -> loop, catalogs, new GroupOffsets(() -> {
    lookups.incrementAndGet();
    return groupConsumers.get();
  }, TOPIC), clock, stops::add);

  private MockConsumer<byte[], byte[]> groupMember() {
    MockConsumer<byte[], byte[]> member = new MockConsumer<>("earliest");
    member.updatePartitions(TOPIC, consumer.partitionsFor(TOPIC));
    // The mock answers with the commits of assigned partitions only; a real consumer needs none.
    member.assign(groupCommits.keySet());
    member.commitSync(groupCommits);
    return member;
  }

  @AfterEach
  void stop() {
    loop.close();
    tracing.close();
  }

  private List<TopicPartition> partitions(int n) {
    List<PartitionInfo> info = new ArrayList<>();
    List<TopicPartition> tps = new ArrayList<>();
    Map<TopicPartition, Long> beginning = new HashMap<>();
    for (int p = 0; p < n; p++) {
      info.add(new PartitionInfo(TOPIC, p, null, null, null));
      tps.add(new TopicPartition(TOPIC, p));
      beginning.put(tps.get(p), 0L);
    }
    consumer.updatePartitions(TOPIC, info);
    consumer.updateBeginningOffsets(beginning);
    return tps;
  }

  /** The group gives the member {@code assignment}, on its poll thread as a real rebalance does. */
  private void rebalance(List<TopicPartition> assignment, String ownership) {
    consumer.schedulePollTask(() -> consumer.rebalance(assignment));
    await().atMost(Duration.ofSeconds(30)).until(() -> loop.ownership().equals(ownership));
  }

  /**
   * An instance never assigned anything (more builders than partitions, a group that never
   * rebalances to it) rebuilt every tenant from its start-up catalog at each periodic rebuild,
   * and its flip won over the versions of the instance that owns the partitions.
   */
  @Test
  void beforeTheFirstAssignmentOnlyStartUpChecksRun() {
    List<TopicPartition> tps = partitions(2);
    loop.start();
    assertEquals("0 of 0", loop.ownership());
    assertTrue(gate.admits(STARTUP), "the replayed catalog is current as of the start");
    assertFalse(gate.admits(PERIODIC), "the catalog no longer follows the topic");
    assertFalse(gate.admits(CHANGED));
    assertNull(gate.holdReason());

    rebalance(tps, "2 of 2");
    assertFalse(gate.admits(PERIODIC), "not before the first assignment is checked against the group's commits");
    assertTrue(gate.holdReason().contains("first assigned after the start-up replay"), gate.holdReason());
    gate.observe();
    assertTrue(gate.admits(PERIODIC));
    assertTrue(gate.admits(CHANGED));
    assertTrue(gate.admits(STARTUP));

    rebalance(List.of(tps.get(0)), "1 of 2");
    assertFalse(gate.admits(STARTUP), "another member has the other partition");
    assertFalse(gate.admits(PERIODIC));
    assertTrue(gate.holdReason().contains("owns 1 of 2"), gate.holdReason());

    rebalance(tps, "2 of 2");
    gate.observe(); // the watch thread's look at what came back
    assertTrue(gate.admits(PERIODIC), "alone again: the other member committed nothing");
    assertNull(gate.holdReason());
    assertEquals(List.of(), stops);
  }

  /** Applied on each partition up to offset 3 (exclusive), as the replay or the loop would. */
  private void appliedUpTo3(List<TopicPartition> tps) {
    for (TopicPartition tp : tps) {
      for (long o = 0; o < 3; o++) {
        catalogs.advance(tp.partition(), o);
      }
    }
  }

  /**
   * A second member handled partition 1's records 3 and 4 (a tombstone among them, say) and
   * committed 5, then left: resumed at 5, this instance never applied them, and its next manifest
   * claimed to cover them. The service stops, so that its restart replays the topic.
   */
  @Test
  void partitionsHandedBackPastWhatThisInstanceAppliedStopTheService() {
    List<TopicPartition> tps = partitions(2);
    appliedUpTo3(tps);
    loop.start();
    rebalance(tps, "2 of 2");
    groupCommits.put(tps.get(0), new OffsetAndMetadata(3));
    groupCommits.put(tps.get(1), new OffsetAndMetadata(3));
    gate.observe();
    assertTrue(gate.admits(CHANGED));

    rebalance(List.of(tps.get(0)), "1 of 2");
    gate.observe();
    groupCommits.put(tps.get(1), new OffsetAndMetadata(5));
    rebalance(tps, "2 of 2");
    gate.observe();
    assertFalse(gate.admits(CHANGED), "nothing is published from a memory missing records 3 and 4");
    assertEquals(1, stops.size());
    assertTrue(stops.get(0).getMessage().contains("1=applied up to offset 3, the group committed 5"),
        stops.get(0).getMessage());
    assertTrue(gate.holdReason().contains("replays the topic"), gate.holdReason());
  }

  /**
   * The same, but this instance had already read on from the other member's commit when it looked:
   * the group's commit is its own by then, and the jump past records 3 and 4 tells it.
   */
  @Test
  void aHandedBackPartitionReadOnPastRecordsNeverAppliedStopsTheServiceToo() {
    List<TopicPartition> tps = partitions(2);
    appliedUpTo3(tps);
    loop.start();
    rebalance(tps, "2 of 2");
    rebalance(List.of(tps.get(0)), "1 of 2");
    gate.observe();
    rebalance(tps, "2 of 2");
    catalogs.advance(1, 5);
    groupCommits.put(tps.get(1), new OffsetAndMetadata(6));
    gate.observe();
    assertEquals(1, stops.size());
    assertTrue(stops.get(0).getMessage().contains("1=a record arrived past"), stops.get(0).getMessage());
  }

  /**
   * The pod this one replaces kept running on a node that lost its kubelet: while this instance
   * replayed up to offset 3, it handled records 3 and 4 of partition 1 and committed 5, then was
   * stopped. Assigned both partitions at once, this instance never saw the group shared, resumed
   * at 5 and published versions without records 3 and 4.
   */
  @Test
  void aFirstAssignmentPastTheReplaysEndsStopsTheService() {
    List<TopicPartition> tps = partitions(2);
    appliedUpTo3(tps);
    catalogs.watchForSkips(); // as the replay does when it ends
    loop.start();
    groupCommits.put(tps.get(0), new OffsetAndMetadata(3));
    groupCommits.put(tps.get(1), new OffsetAndMetadata(5));
    gate.observe();
    assertEquals(0, lookups.get(), "nothing to compare before the first assignment");
    assertTrue(gate.admits(STARTUP), "start-up checks still run from the replayed catalog");

    rebalance(tps, "2 of 2");
    gate.observe();
    assertFalse(gate.admits(CHANGED), "nothing is published from a memory missing records 3 and 4");
    assertFalse(gate.admits(PERIODIC));
    assertEquals(1, stops.size());
    assertTrue(stops.get(0).getMessage().contains("first assigned after the start-up replay"), stops.get(0).getMessage());
    assertTrue(stops.get(0).getMessage().contains("1=applied up to offset 3, the group committed 5"),
        stops.get(0).getMessage());
  }

  /** The same start, where this instance read on from the other member's commit before the watch looked. */
  @Test
  void aFirstAssignmentReadOnPastRecordsNeverAppliedStopsTheServiceToo() {
    List<TopicPartition> tps = partitions(2);
    appliedUpTo3(tps);
    catalogs.watchForSkips();
    loop.start();
    rebalance(tps, "2 of 2");
    catalogs.advance(1, 5);
    groupCommits.put(tps.get(1), new OffsetAndMetadata(6));
    gate.observe();
    assertEquals(1, stops.size());
    assertTrue(stops.get(0).getMessage().contains("1=a record arrived past"), stops.get(0).getMessage());
  }

  /** An ordinary restart: the group's commits lie within what the replay read, and builds go on. */
  @Test
  void aFirstAssignmentWithinTheReplaysEndsLetsBuildsRun() {
    List<TopicPartition> tps = partitions(2);
    appliedUpTo3(tps);
    catalogs.watchForSkips();
    loop.start();
    groupCommits.put(tps.get(0), new OffsetAndMetadata(2));
    groupCommits.put(tps.get(1), new OffsetAndMetadata(3));
    rebalance(tps, "2 of 2");
    catalogs.advance(0, 2); // resumed at the commit, behind what the replay read: applied again
    catalogs.advance(1, 3);
    gate.observe();
    assertTrue(gate.admits(CHANGED));
    assertTrue(gate.admits(PERIODIC));
    assertNull(gate.holdReason());
    assertEquals(List.of(), stops);
  }

  /** Shared, then alone again: the partitions came back and the watch has to read the group's commits. */
  private List<TopicPartition> handedBack() {
    List<TopicPartition> tps = partitions(2);
    loop.start();
    rebalance(tps, "2 of 2");
    rebalance(List.of(tps.get(0)), "1 of 2");
    gate.observe();
    rebalance(tps, "2 of 2");
    return tps;
  }

  /**
   * A lookup of the group's commits against a slow broker takes up to a minute; the readiness
   * check (a probe timing out after 3 s) and the build thread waited for it, as it ran under the
   * lock they took.
   */
  @Test
  void theReadinessCheckAndTheBuildThreadAnswerWhileTheWatchReadsTheGroupsCommits() throws Exception {
    handedBack();
    CountDownLatch inLookup = new CountDownLatch(1);
    CountDownLatch brokerAnswers = new CountDownLatch(1);
    groupConsumers = () -> new MockConsumer<>("earliest") {
      @Override
      public synchronized List<PartitionInfo> partitionsFor(String topic, Duration timeout) {
        inLookup.countDown();
        try {
          brokerAnswers.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return groupMember().partitionsFor(topic, timeout);
      }
    };
    Thread watch = new Thread(gate::observe, "test-group-watch");
    watch.start();
    try {
      assertTrue(inLookup.await(30, TimeUnit.SECONDS));
      // A hang guard only: without the fix these wait for the lookup, which never ends by itself.
      String held = assertTimeoutPreemptively(Duration.ofSeconds(30), gate::holdReason);
      assertTrue(held.contains("cannot be told yet"), held);
      assertFalse(assertTimeoutPreemptively(Duration.ofSeconds(30), () -> gate.admits(CHANGED)),
          "what came back is not checked yet");
      assertTrue(watch.isAlive(), "the lookup was still in progress");
    } finally {
      brokerAnswers.countDown();
      watch.join();
    }
    assertTrue(gate.admits(CHANGED), "the other member committed nothing");
    assertNull(gate.holdReason());
  }

  /**
   * A broker failing fast had a new consumer of the group opened and asked at every tick of the
   * watch (200 ms) and again before every due build: failed lookups are retried after a backoff,
   * doubling from 1 s to 30 s.
   */
  @Test
  void failedLookupsOfTheGroupsCommitsAreRetriedAfterABackoff() {
    handedBack();
    groupConsumers = () -> new MockConsumer<>("earliest") {
      @Override
      public synchronized List<PartitionInfo> partitionsFor(String topic, Duration timeout) {
        throw new org.apache.kafka.common.errors.TimeoutException("broker down");
      }
    };
    lookups.set(0);
    for (int tick = 0; tick < 5; tick++) {
      gate.observe();
      assertFalse(gate.admits(CHANGED));
    }
    assertEquals(1, lookups.get(), "one lookup until the first retry is due");
    assertTrue(gate.holdReason().contains("broker down"), gate.holdReason());

    clock.advance(Duration.ofSeconds(1));
    gate.observe();
    gate.observe();
    assertEquals(2, lookups.get(), "retried after 1 s");
    clock.advance(Duration.ofSeconds(1));
    gate.observe();
    assertEquals(2, lookups.get(), "then after 2 s");
    clock.advance(Duration.ofSeconds(1));
    gate.observe();
    assertEquals(3, lookups.get());
    for (int i = 0; i < 10; i++) {
      clock.advance(Duration.ofSeconds(30));
      gate.observe();
    }
    clock.advance(Duration.ofSeconds(29));
    gate.observe();
    assertEquals(13, lookups.get(), "at most every 30 s");

    groupConsumers = this::groupMember;
    clock.advance(Duration.ofSeconds(1));
    gate.observe();
    assertTrue(gate.admits(CHANGED), "the broker answers again: the other member committed nothing");
    assertEquals(List.of(), stops);
  }
}
