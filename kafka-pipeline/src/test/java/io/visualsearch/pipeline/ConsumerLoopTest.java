package io.visualsearch.pipeline;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.runtime.ExitCode;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.tracing.Tracing;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The loop's own decisions, on Kafka's mock clients (the broker's part is ITConsumerLoop's). */
class ConsumerLoopTest {

  static final String TOPIC = "in";

  /** Every offset the loop committed, readable after the consumer closed. */
  final Map<TopicPartition, Long> commits = new java.util.concurrent.ConcurrentHashMap<>();
  final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest") {
    @Override
    public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
      super.commitSync(offsets);
      offsets.forEach((tp, o) -> commits.put(tp, o.offset()));
    }
  };
  final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
      new ByteArraySerializer());
  final Activity activity = new Activity(new PrometheusRegistry());
  final AtomicReference<Throwable> died = new AtomicReference<>();
  final Tracing tracing = Tracing.withExporter("loop-test", InMemorySpanExporter.create());
  final List<ConsumerLoop> started = new ArrayList<>();

  @AfterEach
  void stop() {
    started.forEach(ConsumerLoop::close);
    tracing.close();
  }

  /** The topic, with {@code n} partitions, each starting at offset 0. */
  List<TopicPartition> partitions(int n) {
    List<PartitionInfo> info = new ArrayList<>();
    List<TopicPartition> tps = new ArrayList<>();
    Map<TopicPartition, Long> beginning = new HashMap<>();
    for (int p = 0; p < n; p++) {
      info.add(new PartitionInfo(TOPIC, p, null, null, null));
      TopicPartition tp = new TopicPartition(TOPIC, p);
      tps.add(tp);
      beginning.put(tp, 0L);
    }
    consumer.updatePartitions(TOPIC, info);
    consumer.updateBeginningOffsets(beginning);
    return tps;
  }

  ConsumerLoop loop(RecordHandler handler, int concurrency) {
    return new ConsumerLoop("loop-test", List.of(TOPIC), () -> consumer, () -> producer, handler, tracing, activity,
        Duration.ofMillis(50), Duration.ofMillis(200), died::set, concurrency);
  }

  ConsumerLoop start(ConsumerLoop loop) {
    started.add(loop);
    loop.start();
    return loop;
  }

  /** The group gives the member {@code assignment}, on its poll thread as a real rebalance does. */
  void rebalance(ConsumerLoop loop, List<TopicPartition> assignment) {
    consumer.schedulePollTask(() -> consumer.rebalance(assignment));
    String expected = assignment.size() + " of ";
    await().atMost(Duration.ofSeconds(30)).until(() -> loop.ownership().startsWith(expected)
        && !loop.ownership().endsWith(" of 0"));
  }

  /** Assigns partition 0 and hands the loop {@code values} there (key k-value), on its poll thread. */
  void deliver(List<TopicPartition> tps, String... values) {
    consumer.schedulePollTask(() -> {
      consumer.rebalance(tps);
      for (int i = 0; i < values.length; i++) {
        consumer.addRecord(new ConsumerRecord<>(TOPIC, 0, i, ("k-" + values[i]).getBytes(StandardCharsets.UTF_8),
            values[i].getBytes(StandardCharsets.UTF_8)));
      }
    });
  }

  static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void aRetryPauseIsSpreadBetweenHalfAndAllOfItsBackoff() {
    assertEquals(1000, RetryBackoff.jittered(2000, 0.0));
    assertEquals(1500, RetryBackoff.jittered(2000, 0.5));
    assertTrue(RetryBackoff.jittered(2000, 0.999999) <= 2000 && RetryBackoff.jittered(2000, 0.999999) >= 1999);
    assertEquals(1, RetryBackoff.jittered(1, 0.3), "never a pause of nothing");
    // Replicas drawing different numbers pause differently: they do not all resume at once.
    assertTrue(RetryBackoff.jittered(30_000, 0.1) != RetryBackoff.jittered(30_000, 0.9));
  }

  @Test
  void aMemberOwningFewerPartitionsThanItsTopicHasSharesItsGroupOnceTheyAreKnownNoneIncluded() {
    List<TopicPartition> tps = partitions(2);
    ConsumerLoop loop = start(loop((rec, out) -> { }, 1));
    assertFalse(loop.sharesItsGroup(), "before the first assignment nothing is known: " + loop.ownership());
    assertFalse(loop.assignedOnce());

    rebalance(loop, tps);
    assertFalse(loop.sharesItsGroup(), "alone: " + loop.ownership());

    rebalance(loop, List.of(tps.get(1)));
    assertTrue(loop.sharesItsGroup(), "another member has the rest: " + loop.ownership());

    // More instances than partitions: this one got none, and works from none of the topic.
    rebalance(loop, List.of());
    assertEquals("0 of 2", loop.ownership());
    assertTrue(loop.sharesItsGroup(), "another member has them all: " + loop.ownership());
    assertTrue(loop.assignedOnce(), "owning nothing now is not never having been assigned");

    // An eager rebalance revokes everything before it assigns: shared meanwhile, alone again after.
    rebalance(loop, tps);
    assertFalse(loop.sharesItsGroup(), "alone again once the assignment completes: " + loop.ownership());
    assertEquals(null, died.get());
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void aDeadLetterTheProducerRefusesAtOnceKillsTheLoopAtAnyConcurrency(int concurrency) {
    List<TopicPartition> tps = partitions(1);
    // An idempotent producer in a fatal state throws from send() itself, the dead letter's too.
    producer.sendException = new KafkaException("producer is in a fatal state",
        new ClusterAuthorizationException("not authorised for idempotent writes"));
    ConsumerLoop loop = start(loop((rec, out) -> {
      if (str(rec.value()).startsWith("bad")) {
        throw new PoisonRecordException("malformed-payload", "cannot parse " + str(rec.value()));
      }
      out.send("out", str(rec.key()), rec.value(), "t1");
    }, concurrency));
    deliver(tps, "bad-1", "a");

    await().atMost(Duration.ofSeconds(30)).until(() -> died.get() != null);
    assertTrue(died.get() instanceof KafkaException, String.valueOf(died.get()));
    assertFalse(loop.check().ok(), "a dead loop is not ready: " + loop.check().detail());
    assertEquals(0, activity.handled());
    assertEquals(Map.of(), commits, "nothing committed: the records are handled again after the restart");
  }

  @Test
  void aLoopThatDiesWhileDrainingEndsTheStopWithItsOwnExitCodeNotAsACleanDrain() throws Exception {
    List<TopicPartition> tps = partitions(1);
    CountDownLatch handling = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ServiceHost host = new ServiceHost("loop-test");
    ConsumerLoop[] self = new ConsumerLoop[1];
    self[0] = host.add(loop((rec, out) -> {
      handling.countDown();
      release.await();
      throw new AssertionError("decoder invariant broken");
    }, 1).onDrainCutShort(why -> host.drainCutShort(self[0], why)));
    host.start();
    deliver(tps, "a");
    handling.await();

    Thread stop = new Thread(host::close, "test-stop");
    stop.start();
    // The stop waits for the batch in hand: the loop is draining now.
    await().atMost(Duration.ofSeconds(30)).until(() -> stop.getState() == Thread.State.TIMED_WAITING);
    release.countDown();

    assertEquals(ExitCode.STOP_TIMED_OUT, host.awaitStop(), "the drain did not finish cleanly");
    stop.join();
    assertEquals(null, died.get(), "a stop, not a death mid-run");
    assertFalse(self[0].check().ok());
    assertEquals(Map.of(), commits, "the batch is handled again after the restart");
  }

  @Test
  void aStopEndsTheIntakeOfEveryLoopAtOnceWhileOneDrains() throws Exception {
    List<TopicPartition> tps = partitions(1);
    MockConsumer<byte[], byte[]> otherConsumer = new MockConsumer<>("earliest");
    TopicPartition other = new TopicPartition("other", 0);
    otherConsumer.updatePartitions("other", List.of(new PartitionInfo("other", 0, null, null, null)));
    otherConsumer.updateBeginningOffsets(Map.of(other, 0L));
    CountDownLatch handling = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ServiceHost host = new ServiceHost("loop-test");
    // Added first, so closed last: it used to poll on, starting records, while the other drained.
    host.add(new ConsumerLoop("loop-test", List.of("other"), () -> otherConsumer, () -> producer,
        (rec, out) -> { }, tracing, activity, Duration.ofMillis(50), Duration.ofMillis(200), died::set));
    host.add(loop((rec, out) -> {
      handling.countDown();
      release.await();
    }, 1));
    host.start();
    otherConsumer.schedulePollTask(() -> otherConsumer.rebalance(List.of(other)));
    deliver(tps, "a");
    handling.await();

    Thread stop = new Thread(host::close, "test-stop");
    stop.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> stop.getState() == Thread.State.TIMED_WAITING);
    // The second loop's batch is still in hand; the first loop has already left its group.
    await().atMost(Duration.ofSeconds(30)).until(otherConsumer::closed);
    assertFalse(host.awaitStop(Duration.ZERO), "the other loop's batch is still in hand");
    release.countDown();

    assertEquals(ExitCode.OK, host.awaitStop(), "both drained cleanly");
    stop.join();
    assertEquals(Map.of(tps.get(0), 1L), commits, "the drained batch is committed");
    assertEquals(null, died.get());
  }
}
