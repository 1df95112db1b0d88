package io.visualsearch.healthboard;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.proto.events.Heartbeat;
import io.visualsearch.runtime.CheckResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The reader's positioning and recovery, against Kafka's in-memory consumer. */
class HeartbeatReaderTest {

  static final String TOPIC = "service.health";
  static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
  static final TopicPartition P1 = new TopicPartition(TOPIC, 1);
  static final Duration WAIT = Duration.ofSeconds(20);

  final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:00Z"));
  final HealthBoard board = new HealthBoard(clock, 3, Duration.ofMinutes(5));
  final Deque<Consumer<byte[], byte[]>> consumers = new ConcurrentLinkedDeque<>();
  HeartbeatReader reader;
  final CompletableFuture<Throwable> died = new CompletableFuture<>();

  /**
   * MockConsumer does not implement offsetsForTimes; this one answers from a table. Its end offsets
   * time out while {@link #brokersDown}, as the real client's do when no broker answers (its poll
   * then returns nothing, and partitionsFor answers from cached metadata, as MockConsumer's do).
   */
  static final class HistoryConsumer extends MockConsumer<byte[], byte[]> {
    final Map<TopicPartition, Long> firstOfLastHour = new HashMap<>();
    final Map<TopicPartition, Long> askedFor = new ConcurrentHashMap<>();
    final AtomicInteger endOffsetsAsked = new AtomicInteger();
    volatile boolean brokersDown;

    HistoryConsumer(int partitions) {
      super("latest");
      if (partitions > 0) {
        Node n = new Node(0, "localhost", 9092);
        updatePartitions(TOPIC, java.util.stream.IntStream.range(0, partitions)
            .mapToObj(p -> new PartitionInfo(TOPIC, p, n, new Node[] {n}, new Node[] {n})).toList());
      }
    }

    @Override
    public synchronized Map<TopicPartition, OffsetAndTimestamp> offsetsForTimes(Map<TopicPartition, Long> times,
        Duration timeout) {
      askedFor.putAll(times);
      Map<TopicPartition, OffsetAndTimestamp> out = new HashMap<>();
      times.keySet().forEach(tp -> out.put(tp, firstOfLastHour.containsKey(tp)
          ? new OffsetAndTimestamp(firstOfLastHour.get(tp), times.get(tp)) : null));
      return out;
    }

    @Override
    public Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions, Duration timeout) {
      endOffsetsAsked.incrementAndGet();
      if (brokersDown) {
        throw new TimeoutException("Failed to get offsets by times in " + timeout.toMillis() + "ms");
      }
      return partitions.stream().collect(Collectors.toMap(tp -> tp, tp -> 0L));
    }
  }

  ConsumerRecord<byte[], byte[]> beat(TopicPartition tp, long offset, String service, String instance) {
    Heartbeat hb = Heartbeat.newBuilder().setService(service).setInstance(instance).setTimestampMs(clock.millis())
        .setActivityTotal(offset).setReady(true).setIntervalMs(5_000).build();
    return new ConsumerRecord<>(tp.topic(), tp.partition(), offset,
        (service + "/" + instance).getBytes(StandardCharsets.UTF_8), hb.toByteArray());
  }

  List<String> listed() {
    return board.rows().stream().map(r -> r.service() + "/" + r.instance()).toList();
  }

  void start() {
    reader = new HeartbeatReader(() -> consumers.isEmpty() ? new HistoryConsumer(0) : consumers.poll(), board,
        Duration.ofMillis(20), died::complete);
    reader.start();
  }

  /** With the brokers asked whether they answer every few milliseconds instead of every 10 s. */
  void startProbingOften() {
    reader = new HeartbeatReader(() -> consumers.isEmpty() ? new HistoryConsumer(0) : consumers.poll(), board,
        Duration.ofMillis(20), Duration.ofMillis(5), died::complete);
    reader.start();
  }

  @AfterEach
  void stop() {
    if (reader != null) {
      reader.close();
    }
  }

  @Test
  void readsEveryPartitionFromTheFirstHeartbeatOfTheLastHour() {
    HistoryConsumer c = new HistoryConsumer(2);
    c.firstOfLastHour.put(P0, 5L); // P1 has nothing that recent: only new heartbeats count there
    c.updateEndOffsets(Map.of(P1, 3L));
    c.schedulePollTask(() -> {
      c.addRecord(beat(P0, 4, "too-old", "x")); // before the hour: must not show
      c.addRecord(beat(P0, 5, "image-indexer", "a"));
      c.addRecord(beat(P1, 3, "index-builder", "b"));
    });
    consumers.add(c);
    start();
    await().atMost(WAIT).until(() -> listed().size() == 2);
    assertEquals(List.of("image-indexer/a", "index-builder/b"), listed());
    long hourAgo = clock.millis() - Duration.ofHours(1).toMillis();
    assertEquals(Map.of(P0, hourAgo, P1, hourAgo), c.askedFor);
    CheckResult check = reader.check();
    assertTrue(check.ok());
    assertEquals("reading 2 partitions", check.detail());
  }

  @Test
  void aFailedReadIsRetriedWithAFreshConsumerWithoutFailingItsHost() {
    HistoryConsumer broken = new HistoryConsumer(1);
    broken.firstOfLastHour.put(P0, 0L);
    broken.setPollException(new KafkaException("broker went away"));
    HistoryConsumer healthy = new HistoryConsumer(1);
    healthy.firstOfLastHour.put(P0, 0L);
    healthy.schedulePollTask(() -> healthy.addRecord(beat(P0, 0, "catalog-downloader", "c")));
    consumers.add(broken);
    consumers.add(healthy);
    start();
    await().atMost(WAIT).until(() -> listed().equals(List.of("catalog-downloader/c")));
    assertTrue(broken.closed(), "the failed consumer is closed, not leaked");
    assertTrue(reader.check().ok(), "a broken page must not take search-api out of the load balancer");
  }

  @Test
  void aRetryDoesNotReadAgainWhatWasReadBeforeSoAFastHostClockBooksNothingTwice() {
    // A host whose clock runs ten minutes ahead: the board takes its beats as heard now.
    HistoryConsumer broken = new HistoryConsumer(1);
    broken.firstOfLastHour.put(P0, 0L);
    broken.schedulePollTask(() -> {
      broken.addRecord(beatAhead(P0, 0, 100, 2));
      broken.addRecord(beatAhead(P0, 1, 110, 4));
    });
    broken.schedulePollTask(() -> {
      clock.advance(Duration.ofMinutes(6)); // those two errors are now older than the 5-minute failing window
      broken.setPollException(new KafkaException("broker went away"));
    });
    HistoryConsumer healthy = new HistoryConsumer(1);
    healthy.firstOfLastHour.put(P0, 0L); // the hour still begins with the beats read before the failure
    healthy.schedulePollTask(() -> {
      healthy.addRecord(beatAhead(P0, 0, 100, 2));
      healthy.addRecord(beatAhead(P0, 1, 110, 4));
      healthy.addRecord(beatAhead(P0, 2, 115, 4));
    });
    consumers.add(broken);
    consumers.add(healthy);
    start();
    await().atMost(WAIT).until(() -> !board.rows().isEmpty() && board.rows().get(0).activityTotal() == 115);
    HealthRow row = board.rows().get(0);
    assertEquals(15, java.util.Arrays.stream(row.sparkline()).sum(), "110 - 100 and 115 - 110, each booked once");
    assertEquals(HealthState.HEALTHY, row.state(), "the old errors are not booked again as new ones: " + row.reason());
  }

  /** A beat from a host whose clock is ten minutes ahead of the board's, with the totals it reports. */
  ConsumerRecord<byte[], byte[]> beatAhead(TopicPartition tp, long offset, long activityTotal, long errorTotal) {
    Heartbeat hb = Heartbeat.newBuilder().setService("image-indexer").setInstance("fast-clock")
        .setTimestampMs(clock.millis() + Duration.ofMinutes(10).toMillis()).setActivityTotal(activityTotal)
        .setErrorTotal(errorTotal).setReady(true).setIntervalMs(5_000).build();
    return new ConsumerRecord<>(tp.topic(), tp.partition(), offset,
        "image-indexer/fast-clock".getBytes(StandardCharsets.UTF_8), hb.toByteArray());
  }

  @Test
  void brokersGoingAwayWhileReadingShowNotReadingUntilTheyAnswerAgain() throws Exception {
    HistoryConsumer c = new HistoryConsumer(1);
    c.firstOfLastHour.put(P0, 0L);
    c.schedulePollTask(() -> c.addRecord(beat(P0, 0, "image-indexer", "a")));
    consumers.add(c);
    startProbingOften();
    await().atMost(WAIT).until(() -> listed().equals(List.of("image-indexer/a")) && reader.status().reading());

    c.brokersDown = true; // poll returns nothing, partitionsFor answers from cache: only asking tells
    await().atMost(WAIT).until(() -> !reader.status().reading());
    ReaderStatus down = reader.status();
    assertTrue(down.detail().startsWith("broker unreachable: " + TimeoutException.class.getName()), down.detail());
    assertTrue(down.lastReadMs() > 0, "still says when it last read a heartbeat");
    assertTrue(reader.check().ok(), "a broken page must not take search-api out of the load balancer");
    ZipkinLinks links = new ZipkinLinks("http://zipkin");
    String banner = new HealthPage(links).render(board.rows(), down, board.nowMs());
    assertTrue(banner.contains("data-reading=\"false\"><strong>Not reading service.health</strong>: broker unreachable: "),
        banner);
    var json = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(new HealthJson(links).render(board.rows(), down, board.nowMs())).get("reader");
    assertFalse(json.get("reading").asBoolean(), "bots check reader.reading");
    assertEquals(down.detail(), json.get("detail").asText());

    c.brokersDown = false;
    await().atMost(WAIT).until(() -> reader.status().reading());
    assertEquals("reading 1 partitions", reader.status().detail());
    c.schedulePollTask(() -> c.addRecord(beat(P0, 1, "image-indexer", "b")));
    await().atMost(WAIT).until(() -> listed().equals(List.of("image-indexer/a", "image-indexer/b")));
    assertFalse(c.closed(), "the same consumer read on: it reconnects by itself");
  }

  @Test
  void noHeartbeatsArrivingIsNotAnOutage() {
    HistoryConsumer c = new HistoryConsumer(1); // every service stopped on purpose: nothing to read
    c.firstOfLastHour.put(P0, 0L);
    consumers.add(c);
    startProbingOften();
    await().atMost(WAIT).until(() -> c.endOffsetsAsked.get() >= 5);
    ReaderStatus quiet = reader.status();
    assertTrue(quiet.reading(), quiet.detail());
    assertEquals("reading 1 partitions", quiet.detail());
    assertEquals(0, quiet.lastReadMs());
  }

  @Test
  void waitsForTheTopicToExist() {
    start(); // every consumer sees no service.health partitions
    await().atMost(WAIT).until(() -> reader.check().detail().equals("waiting for topic service.health"));
    assertTrue(reader.check().ok());
    HistoryConsumer later = new HistoryConsumer(1);
    later.firstOfLastHour.put(P0, 0L);
    later.schedulePollTask(() -> later.addRecord(beat(P0, 0, "embeddings-generator", "e")));
    consumers.add(later);
    await().atMost(WAIT).until(() -> listed().equals(List.of("embeddings-generator/e")));
  }

  @Test
  void aClientThatCannotBeBuiltFailsTheStartInsteadOfRetrying() {
    reader = new HeartbeatReader(() -> {
      throw new KafkaException("no bootstrap servers");
    }, board, Duration.ofMillis(20), died::complete);
    assertThrows(KafkaException.class, reader::start);
  }

  @Test
  void anErrorThatEndsTheReaderIsReportedSoTheServiceRestarts() throws Exception {
    HistoryConsumer c = new HistoryConsumer(1);
    c.firstOfLastHour.put(P0, 0L);
    OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
    c.schedulePollTask(() -> {
      throw oom;
    });
    consumers.add(c);
    start();
    assertSame(oom, died.get(30, TimeUnit.SECONDS), "not left unready for ever behind a live /healthz");
    assertFalse(reader.check().ok());
  }

  @Test
  void closeStopsTheReader() {
    HistoryConsumer c = new HistoryConsumer(1);
    c.firstOfLastHour.put(P0, 0L);
    consumers.add(c);
    start();
    await().atMost(WAIT).until(() -> reader.check().detail().startsWith("reading"));
    reader.close();
    await().atMost(WAIT).until(c::closed);
  }
}
