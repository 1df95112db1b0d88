package io.visualsearch.pipeline;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.config.Config;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.tracing.Tracing;
import io.visualsearch.tracing.TracingSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(StackExtension.class)
class ITConsumerLoop {

  record Harness(Config config, KafkaClients clients, Producer<byte[], byte[]> producer) {}

  /**
   * A member learns of a rebalance at its next heartbeat: Kafka's 3 s a round made the hand-over
   * tests wait ~12 s each (the loop's own behaviour does not depend on it).
   */
  static final String HEARTBEAT = "heartbeat.interval.ms=300";

  Harness harness(EmbeddedStack stack, String group) {
    Map<String, String> env = new java.util.HashMap<>(stack.serviceEnvironment());
    env.put("KAFKA_GROUP_ID", group);
    env.put("KAFKA_MAX_POLL_RECORDS", "50");
    env.put("KAFKA_CLIENT_PROPERTIES", HEARTBEAT);
    Config config = KafkaSettings.definition().include(TracingSettings.definition()).parse(env);
    KafkaClients clients = new KafkaClients(config);
    return new Harness(config, clients, clients.producer(group + "-producer"));
  }

  void createTopics(EmbeddedStack stack, String... names) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", stack.kafkaBootstrapServers());
    try (Admin admin = Admin.create(p)) {
      List<NewTopic> topics = new ArrayList<>();
      for (String n : names) {
        topics.add(new NewTopic(n, 1, (short) 1));
      }
      admin.createTopics(topics).all().get();
    }
  }

  ConsumerLoop loop(Harness h, String service, String topic, RecordHandler handler, Tracing tracing,
      AtomicReference<Throwable> died) {
    return loop(h, service, topic, handler, tracing, died, 1);
  }

  ConsumerLoop loop(Harness h, String service, String topic, RecordHandler handler, Tracing tracing,
      AtomicReference<Throwable> died, int concurrency) {
    return loop(h, service, topic, handler, tracing, died, concurrency, h.config().get(KafkaSettings.MAX_POLL_RECORDS));
  }

  /** A loop whose consumer is handed at most {@code maxPollRecords} records a poll. */
  ConsumerLoop loop(Harness h, String service, String topic, RecordHandler handler, Tracing tracing,
      AtomicReference<Throwable> died, int concurrency, int maxPollRecords) {
    return loop(h, service, topic, handler, tracing, died, concurrency, maxPollRecords,
        new Activity(new PrometheusRegistry()));
  }

  ConsumerLoop loop(Harness h, String service, String topic, RecordHandler handler, Tracing tracing,
      AtomicReference<Throwable> died, int concurrency, int maxPollRecords, Activity activity) {
    return new ConsumerLoop(service, List.of(topic),
        () -> h.clients().consumer(h.clients().groupId(service), service, maxPollRecords),
        h::producer, handler, tracing, activity, Duration.ofMillis(100), Duration.ofMillis(400), died::set,
        concurrency);
  }

  static boolean threadAlive(String name) {
    return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
  }

  static String str(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  long committed(EmbeddedStack stack, String group, String topic) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", stack.kafkaBootstrapServers());
    try (Admin admin = Admin.create(p)) {
      Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
          .partitionsToOffsetAndMetadata().get();
      OffsetAndMetadata o = offsets.get(new TopicPartition(topic, 0));
      return o == null ? 0 : o.offset();
    }
  }

  /** Records ever written to partition 0 of {@code topic}: its end offset, which needs no wait. */
  long endOffset(EmbeddedStack stack, String topic) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", stack.kafkaBootstrapServers());
    try (Admin admin = Admin.create(p)) {
      TopicPartition tp = new TopicPartition(topic, 0);
      return admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get().offset();
    }
  }

  List<ConsumerRecord<byte[], byte[]>> readAll(Harness h, String topic, int expected) {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (var c = h.clients().consumer("reader-" + topic + System.nanoTime(), "reader")) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  private static final byte[] BINARY_KEY = {(byte) 0xFF, 0, (byte) 0xC3, 'k'};

  @Test
  void poisonGoesToTheDeadLetterTopicWithItsOriginAndTheLoopKeepsConsuming(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.poison", "it.poison.dlq", "it.poison.out");
    Harness h = harness(stack, "it-poison");
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    RecordHandler handler = (rec, out) -> {
      String v = str(rec.value());
      if (v.startsWith("bad")) {
        throw new PoisonRecordException("malformed-payload", "cannot parse " + v);
      }
      handled.add(v);
      out.send("it.poison.out", str(rec.key()), ("done " + v).getBytes(StandardCharsets.UTF_8), "t1");
    };
    AtomicReference<Throwable> died = new AtomicReference<>();
    PrometheusRegistry registry = new PrometheusRegistry();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, "it-poison", "it.poison", handler, tracing, died, 1,
          h.config().get(KafkaSettings.MAX_POLL_RECORDS), new Activity(registry));
      for (String v : List.of("a", "b", "bad-1", "c")) {
        RecordHeaders headers = new RecordHeaders();
        headers.add("tenant", "t1".getBytes(StandardCharsets.UTF_8));
        headers.add("x-custom", ("orig-" + v).getBytes(StandardCharsets.UTF_8));
        h.producer().send(new ProducerRecord<>("it.poison", 0, ("k-" + v).getBytes(StandardCharsets.UTF_8),
            v.getBytes(StandardCharsets.UTF_8), headers)).get();
      }
      // A key that is not UTF-8 (as malformed-key poison often is): dead-lettered byte for byte.
      h.producer().send(new ProducerRecord<>("it.poison", 0, BINARY_KEY, "bad-2".getBytes(StandardCharsets.UTF_8)))
          .get();
      loop.start();
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 3);
        assertEquals(List.of("a", "b", "c"), handled);
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(stack, "it-poison", "it.poison") == 5);
        assertTrue(loop.check().ok(), loop.check().detail());
      } finally {
        loop.close();
      }
    }
    List<ConsumerRecord<byte[], byte[]>> dlq = readAll(h, "it.poison.dlq", 2);
    assertEquals(2, dlq.size());
    assertArrayEquals(BINARY_KEY, dlq.get(1).key(), "the same key, so a replay lands on the same partition");
    ConsumerRecord<byte[], byte[]> d = dlq.get(0);
    assertEquals("k-bad-1", str(d.key()));
    assertEquals("bad-1", str(d.value()));
    assertEquals("orig-bad-1", PipelineHeaders.get(d.headers(), "x-custom"));
    assertEquals("t1", PipelineHeaders.get(d.headers(), PipelineHeaders.TENANT));
    assertEquals("it.poison", PipelineHeaders.get(d.headers(), PipelineHeaders.DLQ_ORIGIN_TOPIC));
    assertEquals("0", PipelineHeaders.get(d.headers(), PipelineHeaders.DLQ_ORIGIN_PARTITION));
    assertEquals("2", PipelineHeaders.get(d.headers(), PipelineHeaders.DLQ_ORIGIN_OFFSET));
    assertEquals("malformed-payload", PipelineHeaders.get(d.headers(), PipelineHeaders.DLQ_REASON));
    assertEquals(PoisonRecordException.class.getName(), PipelineHeaders.get(d.headers(), PipelineHeaders.DLQ_EXCEPTION_CLASS));
    assertEquals("cannot parse bad-1", PipelineHeaders.get(d.headers(), PipelineHeaders.DLQ_EXCEPTION_MESSAGE),
        "the message alone, no stack frames");
    String trace = PipelineHeaders.get(d.headers(), PipelineHeaders.DLQ_EXCEPTION_STACK_TRACE);
    assertTrue(trace.startsWith(PoisonRecordException.class.getName() + ": cannot parse bad-1") && trace.contains("\tat "),
        trace);
    assertEquals(3, readAll(h, "it.poison.out", 3).size());
    assertEquals(null, died.get());
    // Counted by the tenant its header names; the binary key's names none.
    ByteArrayOutputStream metrics = new ByteArrayOutputStream();
    io.prometheus.metrics.expositionformats.ExpositionFormats.init().getPrometheusTextFormatWriter()
        .write(metrics, registry.scrape());
    String text = metrics.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains(
        "pipeline_dlq_records_total{reason=\"malformed-payload\",tenant=\"t1\",topic=\"it.poison\"} 1"), text);
    assertTrue(text.contains(
        "pipeline_dlq_records_total{reason=\"malformed-payload\",tenant=\"\",topic=\"it.poison\"} 1"), text);
  }

  @Test
  void anErrorThatKillsTheLoopMarksTheSpanOfTheRecordThatCausedIt(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.fatal", "it.fatal.dlq");
    Harness h = harness(stack, "it-fatal");
    h.producer().send(new ProducerRecord<>("it.fatal", 0, "k".getBytes(StandardCharsets.UTF_8),
        "deep".getBytes(StandardCharsets.UTF_8))).get();
    RecordHandler handler = (rec, out) -> {
      throw new StackOverflowError("decoder recursed too deep");
    };
    AtomicReference<Throwable> died = new AtomicReference<>();
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    SpanData span;
    try (Tracing tracing = Tracing.withExporter("loop-it", spans)) {
      ConsumerLoop loop = loop(h, "it-fatal", "it.fatal", handler, tracing, died);
      loop.start();
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> died.get() != null);
        assertFalse(loop.check().ok(), "a dead loop is not ready");
        // Read before the exporter is shut down, which empties it.
        span = await().atMost(Duration.ofSeconds(30)).until(() -> spans.getFinishedSpanItems().stream()
            .filter(s -> s.getName().equals("it.fatal process")).findFirst().orElse(null), s -> s != null);
      } finally {
        loop.close();
      }
    }
    assertEquals(StatusCode.ERROR, span.getStatus().getStatusCode());
    assertTrue(span.getStatus().getDescription().contains("decoder recursed too deep"), span.getStatus().toString());
    assertEquals(0, committed(stack, "it-fatal", "it.fatal"), "the record is handled again after a restart");
  }

  @Test
  void aProducedRecordTheBrokerCanNeverTakeMakesTheLoopNotReady(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.refused", "it.refused.out");
    Harness h = harness(stack, "it-refused");
    AtomicInteger attempts = new AtomicInteger();
    RecordHandler handler = (rec, out) -> {
      attempts.incrementAndGet();
      // Above the producer's max.request.size (1 MiB): refused at every attempt.
      out.send("it.refused.out", str(rec.key()), new byte[2 << 20], "t1");
    };
    AtomicReference<Throwable> died = new AtomicReference<>();
    Activity activity = new Activity(new PrometheusRegistry());
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, "it-refused", "it.refused", handler, tracing, died, 1,
          h.config().get(KafkaSettings.MAX_POLL_RECORDS), activity);
      h.producer().send(new ProducerRecord<>("it.refused", 0, "k".getBytes(StandardCharsets.UTF_8),
          "v".getBytes(StandardCharsets.UTF_8))).get();
      loop.start();
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> attempts.get() >= 2);
        CheckResult check = loop.check();
        assertFalse(check.ok(), "an ordinary back-off would hide a partition that can never advance");
        assertTrue(check.detail().contains("RecordTooLargeException"), check.detail());
        assertEquals(0, committed(stack, "it-refused", "it.refused"), "nothing is lost meanwhile");
        // The health page: each round that commits nothing is an error, not only activity.
        await().atMost(Duration.ofSeconds(30)).until(() -> activity.errors() >= 2);
        assertEquals(0, activity.handled(), "a record whose output was never written is not counted as handled");
      } finally {
        loop.close();
      }
    }
    assertNull(died.get());
  }

  /**
   * A record whose handling outlasts max.poll.interval.ms (a similar-items job over a large
   * catalog, here 3 s against a 1.5 s limit) is handled once and committed: the loop keeps polling
   * with its partitions paused meanwhile, so the group does not expel it and hand the record out
   * again, over and over.
   */
  @Test
  void aRecordHandledForLongerThanThePollIntervalIsHandledOnceAndCommitted(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.long", "it.long.dlq");
    Map<String, String> env = new java.util.HashMap<>(stack.serviceEnvironment());
    env.put("KAFKA_GROUP_ID", "it-long");
    env.put("KAFKA_CLIENT_PROPERTIES", "max.poll.interval.ms=1500");
    Config config = KafkaSettings.definition().include(TracingSettings.definition()).parse(env);
    KafkaClients clients = new KafkaClients(config);
    Harness h = new Harness(config, clients, clients.producer("it-long-producer"));
    for (int i = 0; i < 3; i++) {
      h.producer().send(new ProducerRecord<>("it.long", 0, null, ("l" + i).getBytes(StandardCharsets.UTF_8))).get();
    }
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    RecordHandler slow = (rec, out) -> {
      if (str(rec.value()).equals("l1")) {
        Thread.sleep(3_000);
      }
      handled.add(str(rec.value()));
    };
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, "it-long", "it.long", slow, tracing, died);
      loop.start();
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> committed(stack, "it-long", "it.long") == 3);
        // A record after them: a member expelled and handed l1 again handles it before this one,
        // so once this one is committed, anything handled twice has been.
        h.producer().send(new ProducerRecord<>("it.long", 0, null, "l3".getBytes(StandardCharsets.UTF_8))).get();
        await().atMost(Duration.ofSeconds(60)).until(() -> committed(stack, "it-long", "it.long") == 4);
        assertTrue(loop.check().ok(), loop.check().toString());
      } finally {
        loop.close();
      }
    }
    assertEquals(List.of("l0", "l1", "l2", "l3"), handled);
    assertNull(died.get());
  }

  /**
   * Records piling up behind a batch of minutes (a similar-items job) showed as lag 0 for all of
   * it: a paused partition is not fetched, and the consumer's cached end never moved.
   */
  @Test
  void recordsPilingUpBehindALongBatchShowInTheLag(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.lagging", "it.lagging.dlq");
    Harness h = harness(stack, "it-lagging");
    produce(h, "it.lagging", "g", 0, 1);
    CountDownLatch inLongBatch = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    RecordHandler holding = (rec, out) -> {
      if (str(rec.value()).equals("g0")) {
        inLongBatch.countDown();
        release.await();
      }
    };
    Activity activity = new Activity(new PrometheusRegistry());
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, "it-lagging", "it.lagging", holding, tracing, died, 1,
          h.config().get(KafkaSettings.MAX_POLL_RECORDS), activity);
      loop.start();
      try {
        assertTrue(inLongBatch.await(60, TimeUnit.SECONDS));
        produce(h, "it.lagging", "g", 1, 11);
        await().atMost(Duration.ofSeconds(60)).until(() -> activity.lag() >= 10);
      } finally {
        release.countDown();
        loop.close();
      }
    }
    assertNull(died.get());
  }

  void produce(Harness h, String topic, String prefix, int from, int to) throws Exception {
    produce(h, topic, null, prefix, from, to);
  }

  /** Records {@code prefix + i} for i in [from, to), all with {@code key} (null: none). */
  void produce(Harness h, String topic, String key, String prefix, int from, int to) throws Exception {
    byte[] k = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
    for (int i = from; i < to; i++) {
      h.producer().send(new ProducerRecord<>(topic, 0, k, (prefix + i).getBytes(StandardCharsets.UTF_8))).get();
    }
  }

  /** A handler that records what it handled and holds the record {@code value} until released. */
  record Gate(CountDownLatch blocked, CountDownLatch release, List<String> handled) {
    Gate() {
      this(new CountDownLatch(1), new CountDownLatch(1), Collections.synchronizedList(new ArrayList<>()));
    }

    RecordHandler holding(String value) {
      return (rec, out) -> {
        if (str(rec.value()).equals(value)) {
          blocked.countDown();
          release.await();
        }
        handled.add(str(rec.value()));
      };
    }
  }

  /**
   * Another member of {@code group}. Member ids start with the client id, and the range assignor
   * gives a partition to the first: a client id starting with "0" takes it from the loop.
   */
  KafkaConsumer<byte[], byte[]> member(EmbeddedStack stack, String group, String clientId) {
    Properties p = new Properties();
    p.put("bootstrap.servers", stack.kafkaBootstrapServers());
    p.put("group.id", group);
    p.put("client.id", clientId);
    p.put("enable.auto.commit", "false");
    p.put("auto.offset.reset", "earliest");
    p.put("heartbeat.interval.ms", "300");
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * A partition taken away while its batch is handled (another instance joined) is not committed
   * by its old owner when the batch ends: the group checks a commit's generation, not who owns
   * the partition, and the late commit moved the new owner's committed offset back. Nor does the
   * old owner start the batch's records it had not started yet: their output, produced after the
   * new owner's, would replace newer records of the same keys in compacted topics.
   */
  @ParameterizedTest(name = "concurrency {0}")
  @ValueSource(ints = {1, 4})
  void aPartitionRevokedWhileItsBatchIsHandledIsLeftToItsNewOwner(int concurrency, EmbeddedStack stack)
      throws Exception {
    String topic = "it.revoked" + concurrency;
    String service = "it-revoked" + concurrency;
    createTopics(stack, topic, topic + ".dlq");
    Harness h = harness(stack, service);
    // One key: with workers, every record after r0 waits for it, as records of one product do.
    produce(h, topic, "product", "r", 0, 20);
    Gate gate = new Gate();
    CountDownLatch release = gate.release();
    AtomicReference<Throwable> died = new AtomicReference<>();
    Activity activity = new Activity(new PrometheusRegistry());
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, service, topic, gate.holding("r0"), tracing, died, concurrency,
          h.config().get(KafkaSettings.MAX_POLL_RECORDS), activity);
      loop.start();
      try (KafkaConsumer<byte[], byte[]> newcomer = member(stack, h.clients().groupId(service), "0-newcomer")) {
        assertTrue(gate.blocked().await(30, TimeUnit.SECONDS));
        Thread.sleep(1_500); // past the loop's keep-alive: it polls with its partition paused
        produce(h, topic, "product", "r", 20, 30);
        newcomer.subscribe(List.of(topic));
        int read = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (read < 30 && System.nanoTime() < deadline) {
          read += newcomer.poll(Duration.ofMillis(200)).count();
        }
        assertEquals(30, read, "the newcomer owns the partition and reads it from the start");
        newcomer.commitSync();
        assertEquals(30, committed(stack, h.clients().groupId(service), topic));

        // The old owner's keep-alive polls finish its side of the rebalance (it now owns nothing)
        // before its batch of r0..r19 ends.
        Thread.sleep(5_000);
        release.countDown();
        // r0 is counted once the batch has ended, every record after it decided on, while the
        // loop still runs (a stop would end the batch by itself and prove nothing).
        await().atMost(Duration.ofSeconds(60)).until(() -> activity.handled() >= 1);
        // The close waits for the batch's last commit, if any: what is read after it is final.
        loop.close();
        assertEquals(30, committed(stack, h.clients().groupId(service), topic),
            "the old owner's late commit must not move the new owner's offset back");
      } finally {
        release.countDown();
        loop.close();
      }
    }
    assertNull(died.get());
    assertEquals(List.of("r0"), gate.handled(), "the old owner started nothing after the revocation");
  }

  /**
   * A rebalance in the middle of a long batch that hands this member its partition straight back
   * (an eager rebalance revokes everything, here because another member joins the group for
   * another topic) does not make it handle the batch again: it resumes after what it committed.
   */
  @Test
  void aPartitionHandedStraightBackMidBatchIsNotHandledAgain(EmbeddedStack stack) throws Exception {
    assertEquals(List.of("b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10"),
        handledAcrossAHandback(stack, "it-back", false, false));
  }

  /**
   * The same with a consumer whose {@code position()} times out, as it does for a partition just
   * assigned while a broker restarts during the rebalance: the resume must not need it, or the
   * poll thread dies on the timeout.
   */
  @Test
  void aPartitionHandedStraightBackResumesWithoutAskingItsPosition(EmbeddedStack stack) throws Exception {
    assertEquals(List.of("b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10"),
        handledAcrossAHandback(stack, "it-noposition", false, true));
  }

  /**
   * The same when the batch ends between the revocation and the assignment that gives the
   * partition back: what the batch handled is committed when it comes back, not handled again.
   */
  @Test
  void aPartitionHandedBackAfterItsBatchEndedIsNotHandledAgain(EmbeddedStack stack) throws Exception {
    assertEquals(List.of("b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10"),
        handledAcrossAHandback(stack, "it-late", true, false));
  }

  /**
   * What a loop handles of ten records when another member's join takes its partition while b0 is
   * held and the group gives it straight back; b0 is released once the partition is back, or, with
   * {@code releaseWhileAway}, as soon as it was taken (the batch then ends before it comes back).
   * With {@code positionTimesOut} every {@code position()} call on the loop's consumer throws. A
   * record b10 is produced once b0..b9 are committed, and handled last.
   */
  List<String> handledAcrossAHandback(EmbeddedStack stack, String name, boolean releaseWhileAway,
      boolean positionTimesOut) throws Exception {
    String topic = name.replace('-', '.');
    createTopics(stack, topic, topic + ".dlq", topic + ".other");
    Harness h = harness(stack, name);
    produce(h, topic, "b", 0, 10);
    Gate gate = new Gate();
    CountDownLatch release = gate.release();
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = positionTimesOut
          ? new ConsumerLoop(name, List.of(topic), () -> positionTimingOut(h.clients().consumer(
              h.clients().groupId(name), name, h.config().get(KafkaSettings.MAX_POLL_RECORDS))), h::producer,
              gate.holding("b0"), tracing,
              new Activity(new PrometheusRegistry()), Duration.ofMillis(100), Duration.ofMillis(400), died::set)
          : loop(h, name, topic, gate.holding("b0"), tracing, died);
      loop.start();
      try (KafkaConsumer<byte[], byte[]> other = member(stack, h.clients().groupId(name), "0-other-topic")) {
        assertTrue(gate.blocked().await(30, TimeUnit.SECONDS));
        Thread.sleep(1_500); // past the loop's keep-alive: it polls with its partition paused
        other.subscribe(List.of(topic + ".other"));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        if (releaseWhileAway) {
          while (!loop.ownership().startsWith("0 of") && System.nanoTime() < deadline) {
            other.poll(Duration.ofMillis(10));
          }
          assertTrue(loop.ownership().startsWith("0 of"), "the rebalance took the partition: " + loop.ownership());
          release.countDown(); // the batch ends before the group has given the partition back
        }
        while (other.assignment().isEmpty() && System.nanoTime() < deadline) {
          other.poll(Duration.ofMillis(100));
        }
        assertFalse(other.assignment().isEmpty(), "the rebalance happened");
        if (!releaseWhileAway) {
          // The loop's keep-alive polls take its partition back (revoked by now: the group's new
          // generation needed the loop to rejoin, and an eager rebalance revokes before it joins).
          await().atMost(Duration.ofSeconds(60)).until(() -> loop.ownership().equals("1 of 1"));
          release.countDown();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> committed(stack, h.clients().groupId(name), topic) == 10);
        // A record after the batch: a position gone back fetches the batch again before it, so
        // once it is committed, anything handled twice has been.
        produce(h, topic, "b", 10, 11);
        await().atMost(Duration.ofSeconds(60)).until(() -> committed(stack, h.clients().groupId(name), topic) == 11);
      } finally {
        release.countDown();
        loop.close();
      }
    }
    assertNull(died.get());
    return gate.handled();
  }

  /** {@code consumer}, except that asking a partition's position times out. */
  @SuppressWarnings("unchecked")
  static org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> positionTimingOut(
      org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer) {
    return (org.apache.kafka.clients.consumer.Consumer<byte[], byte[]>) java.lang.reflect.Proxy.newProxyInstance(
        ITConsumerLoop.class.getClassLoader(), new Class<?>[] {org.apache.kafka.clients.consumer.Consumer.class},
        (proxy, method, args) -> {
          if (method.getName().equals("position")) {
            throw new org.apache.kafka.common.errors.TimeoutException("position timed out (test)");
          }
          try {
            return method.invoke(consumer, args);
          } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  /**
   * A partition taken while its batch is handled, handled and committed by another member, and
   * given back before the batch ends (that member left) is still not the batch's: the loop starts
   * none of the records it had not started (their output would land after that member's for the
   * same keys, and in a compacted topic an old upsert would replace a newer tombstone), nor
   * rewinds it, not even to retry the record it was handling, but resumes where that member
   * committed.
   */
  @ParameterizedTest(name = "concurrency {0}, held record fails {1}")
  @CsvSource({"1, false", "4, false", "1, true"})
  void aPartitionGivenBackAfterAnotherMemberHadItResumesWhereThatMemberCommitted(int concurrency,
      boolean heldFails, EmbeddedStack stack) throws Exception {
    String service = "it-regained" + concurrency + (heldFails ? "-failing" : "");
    String topic = service.replace('-', '.');
    createTopics(stack, topic, topic + ".dlq");
    Harness h = harness(stack, service);
    produce(h, topic, "product", "r", 0, 20);
    Holds holds = new Holds("r0");
    RecordHandler handler = (rec, out) -> {
      if (holds.hold(str(rec.value())) && heldFails) {
        throw new RetriableProcessingException("model server unavailable");
      }
    };
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, service, topic, handler, tracing, died, concurrency);
      loop.start();
      try {
        holds.awaitHeld("r0");
        handOverAndBack(stack, h, service, topic, loop, 20);
        holds.release("r0");
        produce(h, topic, "product", "r", 20, 21);
        await().atMost(Duration.ofSeconds(60)).until(() -> committed(stack, h.clients().groupId(service), topic) == 21);
      } finally {
        holds.releaseAll();
        loop.close();
      }
    }
    assertNull(died.get());
    assertEquals(List.of("r0", "r20"), holds.started(), "handled again what the other member had handled");
  }

  /**
   * The same when the batch reached the partition's next record while the other member had it (a
   * record of another key was still running when it came back): the partition is not rewound to
   * that record, behind what the other member committed.
   */
  @Test
  void aPartitionLeftToAnotherMemberMidBatchIsNotRewoundWhenGivenBack(EmbeddedStack stack) throws Exception {
    String service = "it-regained-reached";
    String topic = service.replace('-', '.');
    createTopics(stack, topic, topic + ".dlq");
    Harness h = harness(stack, service);
    for (int i = 0; i < 10; i++) {
      produce(h, topic, "a", "a", i, i + 1);
      produce(h, topic, "b", "b", i, i + 1);
    }
    Holds holds = new Holds("a0", "b0");
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, service, topic, (rec, out) -> holds.hold(str(rec.value())), tracing, died, 4);
      loop.start();
      try {
        holds.awaitHeld("a0");
        holds.awaitHeld("b0");
        handOverAndBack(stack, h, service, topic, loop, 20, () -> holds.release("a0"));
        holds.release("b0");
        produce(h, topic, "c", "c", 0, 1);
        await().atMost(Duration.ofSeconds(60)).until(() -> committed(stack, h.clients().groupId(service), topic) == 21);
      } finally {
        holds.releaseAll();
        loop.close();
      }
    }
    assertNull(died.get());
    List<String> started = new ArrayList<>(holds.started());
    Collections.sort(started);
    assertEquals(List.of("a0", "b0", "c0"), started, "handled again what the other member had handled");
  }

  void handOverAndBack(EmbeddedStack stack, Harness h, String service, String topic, ConsumerLoop loop, int records)
      throws Exception {
    handOverAndBack(stack, h, service, topic, loop, records, () -> { });
  }

  /**
   * Another member joins, takes the loop's partition, reads its {@code records} and commits them,
   * runs {@code whileAway}, and leaves; returns once the loop owns the partition again.
   */
  void handOverAndBack(EmbeddedStack stack, Harness h, String service, String topic, ConsumerLoop loop, int records,
      Runnable whileAway) throws Exception {
    try (KafkaConsumer<byte[], byte[]> newcomer = member(stack, h.clients().groupId(service), "0-newcomer")) {
      newcomer.subscribe(List.of(topic));
      int read = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (read < records && System.nanoTime() < deadline) {
        read += newcomer.poll(Duration.ofMillis(200)).count();
      }
      assertEquals(records, read, "the newcomer owns the partition and reads it from the start");
      newcomer.commitSync();
      whileAway.run();
    }
    // The loop gave it up before the newcomer could read it, so owning it again is the next rebalance.
    await().atMost(Duration.ofSeconds(60)).until(() -> loop.ownership().equals("1 of 1"));
  }

  /** Records each value a handler starts, and holds the first start of some values until released. */
  record Holds(Map<String, CountDownLatch> held, Map<String, CountDownLatch> released, List<String> started) {
    Holds(String... values) {
      this(new java.util.HashMap<>(), new java.util.HashMap<>(), Collections.synchronizedList(new ArrayList<>()));
      for (String v : values) {
        held.put(v, new CountDownLatch(1));
        released.put(v, new CountDownLatch(1));
      }
    }

    /** Whether {@code value} was held (its first start). */
    boolean hold(String value) throws InterruptedException {
      started.add(value);
      CountDownLatch h = held.get(value);
      if (h == null || h.getCount() == 0) {
        return false;
      }
      h.countDown();
      released.get(value).await();
      return true;
    }

    void awaitHeld(String value) throws InterruptedException {
      assertTrue(held.get(value).await(30, TimeUnit.SECONDS), value + " was never started");
    }

    void release(String value) {
      released.get(value).countDown();
    }

    void releaseAll() {
      released.values().forEach(CountDownLatch::countDown);
    }
  }

  /**
   * Records of other keys handled past a failed one are not handled again on the retry when a
   * rebalance during the back-off gives the partition straight back (an eager rebalance revokes
   * everything; here another member joins the group for another topic).
   */
  @Test
  void recordsHandledPastAFailureAreNotHandledAgainWhenARebalanceGivesThePartitionBack(EmbeddedStack stack)
      throws Exception {
    String name = "it-ahead";
    String topic = name.replace('-', '.');
    createTopics(stack, topic, topic + ".dlq", topic + ".other");
    Harness h = harness(stack, name);
    produce(h, topic, "x", "x", 0, 1);
    produce(h, topic, "y", "y", 0, 1);
    AtomicBoolean failing = new AtomicBoolean(true);
    AtomicInteger attempts = new AtomicInteger();
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    RecordHandler handler = (rec, out) -> {
      if (str(rec.value()).equals("x0")) {
        attempts.incrementAndGet();
        if (failing.get()) {
          throw new RetriableProcessingException("model server unavailable");
        }
      }
      handled.add(str(rec.value()));
    };
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, name, topic, handler, tracing, died, 4);
      loop.start();
      try (KafkaConsumer<byte[], byte[]> other = member(stack, h.clients().groupId(name), "0-other-topic")) {
        // A second attempt: the first batch ended, y0 remembered as handled past x0.
        await().atMost(Duration.ofSeconds(30)).until(() -> attempts.get() >= 2 && handled.contains("y0"));
        other.subscribe(List.of(topic + ".other"));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (other.assignment().isEmpty() && System.nanoTime() < deadline) {
          other.poll(Duration.ofMillis(100));
        }
        assertFalse(other.assignment().isEmpty(), "the rebalance happened");
        // The loop rejoined before the rebalance could end: an attempt from now on is one of a
        // batch fetched after the partition came back.
        int before = attempts.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> attempts.get() > before);
        failing.set(false);
        await().atMost(Duration.ofSeconds(60)).until(() -> committed(stack, h.clients().groupId(name), topic) == 2);
      } finally {
        loop.close();
      }
    }
    assertNull(died.get());
    assertEquals(List.of("y0", "x0"), handled, "y0 handled again after the rebalance");
  }

  /**
   * A loop handed one record a poll commits each record once handled, while the next is still
   * being handled: with the usual poll size the first would wait for the whole batch.
   */
  @Test
  void aLoopHandedOneRecordAPollCommitsEachWhenDone(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.jobs", "it.jobs.dlq");
    Harness h = harness(stack, "it-jobs");
    produce(h, "it.jobs", "j", 0, 3);
    Gate gate = new Gate();
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, "it-jobs", "it.jobs", gate.holding("j1"), tracing, died, 1, 1);
      loop.start();
      try {
        assertTrue(gate.blocked().await(30, TimeUnit.SECONDS));
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(stack, "it-jobs", "it.jobs") == 1);
        gate.release().countDown();
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(stack, "it-jobs", "it.jobs") == 3);
      } finally {
        gate.release().countDown();
        loop.close();
      }
    }
    assertEquals(List.of("j0", "j1", "j2"), gate.handled());
    assertNull(died.get());
  }

  /**
   * A stop waits for the batch in hand only as long as its drain limit: then the handler is
   * interrupted, the loop closes, and the record it held is not committed, so the next owner
   * handles it. Before, the stop waited three minutes for the batch, past the service's whole stop
   * limit, and the producers were never flushed.
   */
  @Test
  void aStopAbandonsABatchThatOutlastsTheDrainLimitWithoutCommittingIt(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.drain", "it.drain.dlq");
    Harness h = harness(stack, "it-drain");
    produce(h, "it.drain", "d", 0, 3);
    Gate gate = new Gate();
    AtomicReference<Throwable> died = new AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean interrupted = new java.util.concurrent.atomic.AtomicBoolean();
    RecordHandler holding = (rec, out) -> {
      try {
        gate.holding("d1").handle(rec, out);
      } catch (InterruptedException e) {
        interrupted.set(true);
        // A slow library call ends after the loop has closed (and its last interrupt has landed),
        // and reports the interrupt its own way: no fault of the record's.
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (threadAlive("it-drain-consumer") && System.nanoTime() < giveUp) {
          try {
            Thread.sleep(20);
          } catch (InterruptedException again) {
            // the loop's shutdown of its handler thread
          }
        }
        throw new IllegalStateException("interrupted while handling", e);
      }
    };
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      AtomicReference<String> cutShort = new AtomicReference<>();
      ConsumerLoop loop = loop(h, "it-drain", "it.drain", holding, tracing, died, 1, 1)
          .drainWithin(Duration.ofSeconds(1)).onDrainCutShort(cutShort::set);
      loop.start();
      try {
        assertTrue(gate.blocked().await(30, TimeUnit.SECONDS));
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(stack, "it-drain", "it.drain") == 1);
        // A hang guard, not a timing claim: without the limit the stop waits three minutes.
        assertTimeoutPreemptively(Duration.ofSeconds(60), loop::close);
        assertTrue(interrupted.get(), "the handler was told to stop");
        assertTrue(cutShort.get() != null && cutShort.get().contains("drain limit"),
            "the service is told, for its exit code: " + cutShort.get());
        assertEquals(1, committed(stack, "it-drain", "it.drain"), "the abandoned record is not committed");
        // The handler's thread carries on after the stop stopped waiting for it: its last word (a
        // dead-letter copy, if any) is sent before it ends.
        await().atMost(Duration.ofSeconds(60)).until(() -> !threadAlive("it-drain-handler"));
        h.producer().flush();
        try (KafkaConsumer<byte[], byte[]> c = member(stack, "it-drain-check", "check")) {
          TopicPartition dlq = new TopicPartition("it.drain.dlq", 0);
          assertEquals(0L, c.endOffsets(List.of(dlq)).get(dlq), "a record cut off by a stop is not dead-lettered");
        }
      } finally {
        gate.release().countDown();
        loop.close();
      }
      List<String> next = Collections.synchronizedList(new ArrayList<>());
      ConsumerLoop second = loop(h, "it-drain", "it.drain", (rec, out) -> next.add(str(rec.value())), tracing,
          new AtomicReference<>());
      second.start();
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> next.size() == 2);
      } finally {
        second.close();
      }
      assertEquals(List.of("d1", "d2"), next);
    }
    assertNull(died.get(), "a stop is not a death");
  }

  /**
   * A loop closed late in the service's stop (another loop drained first) has only what is left of
   * the stop's drain time, not an allowance of its own: the two would add up past the stop limit.
   * With none left, the batch in hand is given up at once: its handler is interrupted, the service
   * is told (for its exit code), and nothing is committed. Counted from its own close, the loop
   * would wait the whole hour of its drain limit for a handler that never ends.
   */
  @Test
  void aLoopClosedLateInAStopHasOnlyWhatIsLeftOfTheDrain(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.late-stop", "it.late-stop.dlq");
    Harness h = harness(stack, "it-late-stop");
    produce(h, "it.late-stop", "s", 0, 1);
    Gate gate = new Gate();
    AtomicReference<Throwable> died = new AtomicReference<>();
    AtomicBoolean interrupted = new AtomicBoolean();
    RecordHandler holding = (rec, out) -> {
      try {
        gate.holding("s0").handle(rec, out);
      } catch (InterruptedException e) {
        interrupted.set(true);
        throw e;
      }
    };
    AtomicReference<String> cutShort = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      // The service's stop began long ago, and its drain time is spent: none of it is left.
      ConsumerLoop loop = loop(h, "it-late-stop", "it.late-stop", holding, tracing, died, 1, 1)
          .drainWithin(Duration.ofHours(1), () -> Duration.ZERO).onDrainCutShort(cutShort::set);
      loop.start();
      try {
        assertTrue(gate.blocked().await(30, TimeUnit.SECONDS));
        // A hang guard, not the evidence: the loop's own allowance would hold the close for an hour.
        assertTimeoutPreemptively(Duration.ofSeconds(120), loop::close);
        assertTrue(cutShort.get() != null && cutShort.get().contains("drain limit"),
            "the service is told the batch was given up: " + cutShort.get());
        await().atMost(Duration.ofSeconds(30)).untilTrue(interrupted);
        assertEquals(0, committed(stack, "it-late-stop", "it.late-stop"), "the abandoned record is not committed");
        assertEquals(List.of(), gate.handled(), "the held record was never handled to its end");
      } finally {
        gate.release().countDown();
        loop.close();
      }
    }
    assertNull(died.get(), "a stop is not a death");
  }

  /**
   * A handler that does not return makes the loop not ready once a batch outlasts its bound,
   * wedged (not live) past twice the bound, and ready after.
   */
  @Test
  void aBatchHandledForLongerThanItsBoundMakesTheLoopNotReady(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.stuck", "it.stuck.dlq");
    Harness h = harness(stack, "it-stuck");
    produce(h, "it.stuck", "s", 0, 3);
    Gate gate = new Gate();
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, "it-stuck", "it.stuck", gate.holding("s1"), tracing, died)
          .maxBatchTime(Duration.ofSeconds(2));
      loop.start();
      try {
        assertTrue(gate.blocked().await(30, TimeUnit.SECONDS));
        await().atMost(Duration.ofSeconds(30)).until(() -> !loop.check().ok());
        assertTrue(loop.check().detail().contains("KAFKA_MAX_BATCH_TIME"), loop.check().detail());
        // Past twice the bound, only a restart helps: /healthz fails and the orchestrator restarts it.
        await().atMost(Duration.ofSeconds(30)).until(() -> loop.wedged() != null);
        assertTrue(loop.wedged().contains("twice KAFKA_MAX_BATCH_TIME"), loop.wedged());
        gate.release().countDown();
        await().atMost(Duration.ofSeconds(30)).until(() -> loop.check().ok());
        assertNull(loop.wedged(), "a batch that ended is no longer stuck");
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(stack, "it-stuck", "it.stuck") == 3);
      } finally {
        gate.release().countDown();
        loop.close();
      }
    }
    assertEquals(List.of("s0", "s1", "s2"), gate.handled());
    assertNull(died.get());
  }

  /**
   * A handler that takes long by nature and says it progresses (a similar-items job writing chunk
   * after chunk) is neither reported stuck nor wedged, however long its batch: the bound counts
   * from its last progress.
   */
  @Test
  void aLongHandlerThatProgressesIsNeitherStuckNorWedged(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.progress", "it.progress.dlq");
    Harness h = harness(stack, "it-progress");
    produce(h, "it.progress", "p", 0, 1);
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    AtomicBoolean finish = new AtomicBoolean();
    RecordHandler job = (rec, out) -> {
      running.countDown();
      while (!finish.get()) {
        Thread.sleep(100);
        out.progressed();
      }
      done.countDown();
    };
    AtomicReference<Throwable> died = new AtomicReference<>();
    List<String> complaints = Collections.synchronizedList(new ArrayList<>());
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, "it-progress", "it.progress", job, tracing, died)
          .maxBatchTime(Duration.ofSeconds(3));
      loop.start();
      try {
        assertTrue(running.await(30, TimeUnit.SECONDS));
        // Three bounds long (twice is wedged), progressing all along.
        long until = System.nanoTime() + Duration.ofSeconds(9).toNanos();
        while (System.nanoTime() < until) {
          CheckResult check = loop.check();
          if (!check.ok()) {
            complaints.add(check.detail());
          }
          if (loop.wedged() != null) {
            complaints.add(loop.wedged());
          }
          Thread.sleep(250);
        }
        finish.set(true);
        assertTrue(done.await(30, TimeUnit.SECONDS));
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(stack, "it-progress", "it.progress") == 1);
      } finally {
        finish.set(true);
        loop.close();
      }
    }
    assertEquals(List.of(), complaints);
    assertNull(died.get());
  }

  @Test
  void retriableFailureMidBatchPausesRetriesAndNeverCommitsUnhandledRecords(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.retry", "it.retry.dlq");
    Harness h = harness(stack, "it-retry");
    for (int i = 0; i < 10; i++) {
      h.producer().send(new ProducerRecord<>("it.retry", 0, null, ("r" + i).getBytes(StandardCharsets.UTF_8))).get();
    }
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger failuresLeft = new AtomicInteger(2);
    AtomicReference<Long> committedWhenR5Failed = new AtomicReference<>();
    RecordHandler flaky = (rec, out) -> {
      String v = str(rec.value());
      if (v.equals("r5") && failuresLeft.getAndDecrement() > 0) {
        committedWhenR5Failed.set(committed(stack, "it-retry", "it.retry"));
        throw new RetriableProcessingException("model server unavailable");
      }
      handled.add(v);
    };
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, "it-retry", "it.retry", flaky, tracing, died);
      loop.start();
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 10);
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(stack, "it-retry", "it.retry") == 10);
      } finally {
        loop.close();
      }
    }
    // Every record exactly once, in order, r5 only after its two failures; r0-r4 were not
    // committed before they were handled, and r5 was never committed before it succeeded.
    assertEquals(List.of("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"), handled);
    assertTrue(committedWhenR5Failed.get() <= 5, "committed past the failing record: " + committedWhenR5Failed.get());
    // A dead-letter copy is acknowledged before the offset past its record is committed, so after
    // that commit the topic's end offset is final: a retriable failure was never dead-lettered.
    assertEquals(0, endOffset(stack, "it.retry.dlq"), "a retriable failure went to the dead-letter topic");
  }

  /**
   * While a dependency is down every record of a concurrent round fails alike: one line for the
   * first and one for the round's count, not a line per record per round.
   */
  @Test
  void aRoundOfRecordsFailingRetriablyIsLoggedOnceNotOnceARecord(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.outage", "it.outage.dlq");
    Harness h = harness(stack, "it-outage");
    for (int i = 0; i < 12; i++) {
      produce(h, "it.outage", "k" + i, "v", i, i + 1);
    }
    int failures = 24; // two rounds' worth
    AtomicInteger calls = new AtomicInteger();
    RecordHandler modelServerDown = (rec, out) -> {
      if (calls.incrementAndGet() <= failures) {
        throw new RetriableProcessingException("model server unavailable");
      }
    };
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
        ConsumerLoop.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
        new ch.qos.logback.core.read.ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = loop(h, "it-outage", "it.outage", modelServerDown, tracing, died, 4);
      loop.start();
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> committed(stack, "it-outage", "it.outage") == 12);
      } finally {
        loop.close();
        logger.detachAppender(logged);
      }
    }
    assertNull(died.get());
    List<String> warnings;
    synchronized (logged) {
      warnings = logged.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
          .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
          .filter(m -> m.startsWith("it-outage:")).toList();
    }
    List<String> firsts = warnings.stream().filter(m -> m.contains("will retry")).toList();
    java.util.regex.Pattern count = java.util.regex.Pattern.compile("(\\d+) records of this batch failed retriably");
    int counted = 0;
    int rounds = 0;
    for (String m : warnings) {
      java.util.regex.Matcher c = count.matcher(m);
      if (c.find()) {
        counted += Integer.parseInt(c.group(1));
        rounds++;
      }
    }
    // Every failure is accounted for, a round's count or a round's single line, in a few lines.
    assertEquals(failures, counted + firsts.size() - rounds, String.join("\n", warnings));
    assertTrue(firsts.size() <= 6, firsts.size() + " rounds logged their first failure for 24 failures: " + warnings);
  }

  @Test
  void aCrashMidBatchLosesNothingAfterRestart(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.crash", "it.crash.dlq");
    Harness h = harness(stack, "it-crash");
    for (int i = 0; i < 8; i++) {
      h.producer().send(new ProducerRecord<>("it.crash", 0, null, ("c" + i).getBytes(StandardCharsets.UTF_8))).get();
    }
    List<String> firstRun = Collections.synchronizedList(new ArrayList<>());
    AtomicReference<ConsumerLoop> self = new AtomicReference<>();
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      // The "process" dies while handling c4: the handler's thread stops and nothing after it runs.
      RecordHandler crashing = (rec, out) -> {
        String v = str(rec.value());
        if (v.equals("c4")) {
          throw new Error("simulated crash while handling c4");
        }
        firstRun.add(v);
      };
      ConsumerLoop first = loop(h, "it-crash", "it.crash", crashing, tracing, died);
      self.set(first);
      first.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> died.get() != null);
      assertTrue(!first.check().ok());
      first.close();
      assertEquals(List.of("c0", "c1", "c2", "c3"), firstRun);
      // Records handled in the crashed batch were never committed: the batch had not finished.
      assertEquals(0, committed(stack, "it-crash", "it.crash"));

      List<String> secondRun = Collections.synchronizedList(new ArrayList<>());
      ConsumerLoop second = loop(h, "it-crash", "it.crash", (rec, out) -> secondRun.add(str(rec.value())), tracing,
          new AtomicReference<>());
      second.start();
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> secondRun.size() == 8);
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(stack, "it-crash", "it.crash") == 8);
      } finally {
        second.close();
      }
      assertEquals(List.of("c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"), secondRun);
    }
  }

  @Test
  void oneTraceSpansTwoServicesThroughKafkaAndZipkinHasIt(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.trace.in", "it.trace.in.dlq", "it.trace.out");
    Harness h = harness(stack, "it-trace");
    Tracing upstream = Tracing.create("it-upstream", "u1", h.config());
    Tracing downstream = Tracing.create("it-downstream", "d1", h.config());
    AtomicReference<String> seenTrace = new AtomicReference<>();
    RecordHandler relay = (rec, out) -> {
      seenTrace.set(Span.current().getSpanContext().getTraceId());
      out.send("it.trace.out", str(rec.key()), rec.value(), "t1");
    };
    ConsumerLoop loop = loop(h, "it-trace", "it.trace.in", relay, downstream, new AtomicReference<>());
    loop.start();
    String traceId;
    Span root = upstream.tracer().spanBuilder("feed row").startSpan();
    try (Scope ignored = root.makeCurrent()) {
      traceId = root.getSpanContext().getTraceId();
      Outbox out = new Outbox(h.producer(), upstream);
      out.send("it.trace.in", "t1/sku-9", "payload".getBytes(StandardCharsets.UTF_8), "t1").get();
    } finally {
      root.end();
    }
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> seenTrace.get() != null);
      assertEquals(traceId, seenTrace.get());
      ConsumerRecord<byte[], byte[]> relayed = readAll(h, "it.trace.out", 1).get(0);
      String traceparent = PipelineHeaders.get(relayed.headers(), "traceparent");
      assertNotNull(traceparent);
      assertTrue(traceparent.contains(traceId), traceparent);
    } finally {
      loop.close();
      upstream.close();
      downstream.close();
    }

    HttpClient http = HttpClient.newHttpClient();
    URI uri = URI.create(stack.zipkin().baseUrl() + "/api/v2/trace/" + traceId);
    AtomicReference<String> body = new AtomicReference<>("");
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
      body.set(r.body());
      return r.statusCode() == 200 && r.body().contains("it-downstream") && r.body().contains("it-upstream");
    });
    List<ZipkinSpan> spans = ZipkinSpan.parseAll(body.get());
    ZipkinSpan feedRow = spans.stream().filter(s -> s.name().equals("feed row")).findFirst().orElseThrow();
    ZipkinSpan process = spans.stream().filter(s -> s.name().equals("it.trace.in process")).findFirst().orElseThrow();
    assertEquals("it-upstream", feedRow.service());
    assertEquals("it-downstream", process.service());
    assertEquals(feedRow.id(), process.parentId(), "consumer span must be the child of the producing span");
    assertEquals(Set.of(traceId), Set.copyOf(spans.stream().map(ZipkinSpan::traceId).toList()));
  }

  @Test
  void interleavedRecordsOfTwoTracesKeepTheirOwnParentsAndADeadLetteredOneCarriesItsError(EmbeddedStack stack)
      throws Exception {
    createTopics(stack, "it.scope.in", "it.scope.in.dlq");
    Harness h = harness(stack, "it-scope");
    Tracing upstream = Tracing.create("it-scope-up", "u1", h.config());
    Tracing downstream = Tracing.create("it-scope-down", "d1", h.config());
    Map<String, String> traceOfValue = new java.util.concurrent.ConcurrentHashMap<>();
    Map<String, String> seenTrace = new java.util.concurrent.ConcurrentHashMap<>();
    RecordHandler handler = (rec, out) -> {
      String v = str(rec.value());
      seenTrace.put(v, Span.current().getSpanContext().getTraceId());
      Span work = downstream.tracer().spanBuilder("work " + v).startSpan();
      work.end();
      if (v.startsWith("bad")) {
        throw new PoisonRecordException("malformed-payload", "cannot parse " + v);
      }
    };
    ConsumerLoop loop = loop(h, "it-scope", "it.scope.in", handler, downstream, new AtomicReference<>());
    Span a = upstream.tracer().spanBuilder("sync A").startSpan();
    Span b = upstream.tracer().spanBuilder("sync B").startSpan();
    Outbox out = new Outbox(h.producer(), upstream);
    // One partition, records of the two traces alternating: A1 B1 A2 B2 bad-A3 B3.
    for (String v : List.of("A1", "B1", "A2", "B2", "bad-A3", "B3")) {
      Span root = v.contains("A") ? a : b;
      try (Scope ignored = root.makeCurrent()) {
        traceOfValue.put(v, root.getSpanContext().getTraceId());
        out.send("it.scope.in", "t1/" + v, v.getBytes(StandardCharsets.UTF_8), "t1").get();
      }
    }
    a.end();
    b.end();
    loop.start();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> seenTrace.size() == 6);
      assertEquals(traceOfValue, seenTrace, "each record is handled inside its own trace, never its neighbour's");
    } finally {
      loop.close();
      upstream.close();
      downstream.close();
    }

    HttpClient http = HttpClient.newHttpClient();
    for (String traceId : Set.copyOf(traceOfValue.values())) {
      URI uri = URI.create(stack.zipkin().baseUrl() + "/api/v2/trace/" + traceId);
      AtomicReference<String> body = new AtomicReference<>("");
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
        body.set(r.body());
        return r.statusCode() == 200 && ZipkinSpan.parseAll(r.body()).stream()
            .filter(sp -> sp.name().startsWith("work ")).count() == 3;
      });
      List<ZipkinSpan> spans = ZipkinSpan.parseAll(body.get());
      Map<String, ZipkinSpan> byId = new java.util.HashMap<>();
      spans.forEach(sp -> byId.put(sp.id(), sp));
      for (ZipkinSpan work : spans.stream().filter(sp -> sp.name().startsWith("work ")).toList()) {
        ZipkinSpan parent = byId.get(work.parentId());
        assertNotNull(parent, work + " has its parent in its own trace");
        assertEquals("it.scope.in process", parent.name());
      }
      if (body.get().contains("work bad-A3")) {
        JsonNode dead = null;
        for (JsonNode n : new com.fasterxml.jackson.databind.ObjectMapper().readTree(body.get())) {
          String id = n.path("id").asText();
          boolean parentOfBad = spans.stream().anyMatch(sp -> sp.name().equals("work bad-A3") && id.equals(sp.parentId()));
          if (parentOfBad) {
            dead = n;
          }
        }
        assertNotNull(dead, "the dead-lettered record's span is in Zipkin");
        assertEquals("malformed-payload", dead.path("tags").path("dlq.reason").asText());
        assertTrue(dead.path("tags").path("error").asText().contains("cannot parse bad-A3"), dead.toString());
      }
    }
  }

  @Test
  void concurrentHandlingKeepsPerKeyOrderAndCommitsOnlyTheSucceededPrefix(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.concurrent", "it.concurrent.dlq");
    Harness h = harness(stack, "it-concurrent");
    for (int i = 0; i < 30; i++) {
      h.producer().send(new ProducerRecord<>("it.concurrent", 0, ("k" + (i % 3)).getBytes(StandardCharsets.UTF_8),
          ("v" + i).getBytes(StandardCharsets.UTF_8))).get();
    }
    Map<String, List<Integer>> perKey = new java.util.concurrent.ConcurrentHashMap<>();
    AtomicInteger failuresLeft = new AtomicInteger(1);
    RecordHandler handler = (rec, out) -> {
      int v = Integer.parseInt(str(rec.value()).substring(1));
      if (v == 13 && failuresLeft.getAndDecrement() > 0) {
        throw new RetriableProcessingException("transient");
      }
      Thread.sleep(5);
      perKey.computeIfAbsent(str(rec.key()), k -> Collections.synchronizedList(new ArrayList<>())).add(v);
    };
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = new ConsumerLoop("it-concurrent", List.of("it.concurrent"),
          () -> h.clients().consumer("it-concurrent", "it-concurrent"), h::producer, handler, tracing,
          new Activity(new PrometheusRegistry()), Duration.ofMillis(100), Duration.ofMillis(400), t -> { }, 4);
      loop.start();
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(stack, "it-concurrent", "it.concurrent") == 30);
      } finally {
        loop.close();
      }
    }
    for (int k = 0; k < 3; k++) {
      List<Integer> seen = perKey.get("k" + k);
      // Every value of a key in order, and once: the records of other keys handled past the
      // failed v13 are remembered, not handled (and their output produced) again on the retry.
      List<Integer> expected = new ArrayList<>();
      for (int i = k; i < 30; i += 3) {
        expected.add(i);
      }
      assertEquals(expected, seen, "key k" + k + " handled out of order or twice");
    }
  }

  /** A producer whose sends the test acknowledges, or fails, one by one. */
  static MockProducer<byte[], byte[]> unacknowledgingProducer() {
    return new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer());
  }

  static List<String> values(MockProducer<byte[], byte[]> producer) {
    return producer.history().stream().map(r -> str(r.value())).toList();
  }

  /**
   * A batch whose output the broker did not all acknowledge commits the records before the first
   * whose output was refused, counts only those as handled, and handles the rest again in order
   * after the back-off (a later record's output must not land before an earlier one's of the same
   * key); once that round is acknowledged it is committed, and not handled again.
   */
  @Test
  void aBatchWhoseOutputIsNotAllAcknowledgedIsHandledAgainFromTheFirstRefusedAndThenCommitted(EmbeddedStack stack)
      throws Exception {
    createTopics(stack, "it.unacked");
    Harness h = harness(stack, "it-unacked");
    produce(h, "it.unacked", "u", 0, 5);
    MockProducer<byte[], byte[]> out = unacknowledgingProducer();
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    RecordHandler handler = (rec, o) -> {
      handled.add(str(rec.value()));
      o.send("it.unacked.out", (String) null, ("out-" + str(rec.value())).getBytes(StandardCharsets.UTF_8), "t1");
    };
    Activity activity = new Activity(new PrometheusRegistry());
    AtomicReference<Throwable> died = new AtomicReference<>();
    List<String> round = List.of("u0", "u1", "u2", "u3", "u4");
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      // A back-off long enough to read the check while it lasts.
      ConsumerLoop loop = new ConsumerLoop("it-unacked", List.of("it.unacked"),
          () -> h.clients().consumer("it-unacked", "it-unacked"), () -> out, handler, tracing, activity,
          Duration.ofSeconds(5), Duration.ofSeconds(5), died::set);
      loop.start();
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> out.history().size() == 5);
        out.completeNext();
        out.completeNext();
        out.errorNext(new NotEnoughReplicasException("1 replica in sync, 2 required"));
        out.completeNext();
        out.completeNext();
        await().atMost(Duration.ofSeconds(30)).until(() -> activity.errors() == 1);
        // The pause begins after the commit of u0 and u1, a broker call, and lasts 2.5 s at least.
        await().atMost(Duration.ofSeconds(30)).until(() -> loop.check().detail().contains("backing off"));
        assertTrue(loop.check().ok(), "a retriable refusal is an ordinary back-off: " + loop.check().detail());
        assertEquals(2, committed(stack, "it-unacked", "it.unacked"), "u0 and u1, whose output was written");
        assertEquals(2, activity.handled(), "records whose output was not all written are not counted");

        await().atMost(Duration.ofSeconds(30)).until(() -> out.history().size() == 8);
        assertEquals(2, committed(stack, "it-unacked", "it.unacked"));
        while (out.completeNext()) {
          // the second round's three
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(stack, "it-unacked", "it.unacked") == 5);
        assertEquals(5, activity.handled());
        assertEquals(1, activity.errors());
      } finally {
        loop.close();
      }
    }
    List<String> expected = new ArrayList<>(round);
    expected.addAll(List.of("u2", "u3", "u4"));
    assertEquals(expected, handled, "from the refused record again, in order (u4's output was written but"
        + " follows it), and no third round");
    assertEquals(expected.stream().map(v -> "out-" + v).toList(), values(out));
    assertNull(died.get());
  }

  /**
   * A poison record's dead letter written in a batch whose other output was refused is not written
   * again when the batch is retried: the dead-letter topic holds one copy, with its origin.
   */
  @Test
  void aDeadLetterWrittenInABatchRetriedForOtherOutputIsWrittenOnce(EmbeddedStack stack) throws Exception {
    createTopics(stack, "it.unacked.dlq5");
    Harness h = harness(stack, "it-unacked-dlq");
    produce(h, "it.unacked.dlq5", "d", 0, 5);
    MockProducer<byte[], byte[]> out = unacknowledgingProducer();
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    RecordHandler handler = (rec, o) -> {
      String v = str(rec.value());
      handled.add(v);
      if (v.equals("d3")) {
        throw new PoisonRecordException("malformed-payload", "not a product");
      }
      o.send("it.unacked.dlq5.out", (String) null, ("out-" + v).getBytes(StandardCharsets.UTF_8), "t1");
    };
    Activity activity = new Activity(new PrometheusRegistry());
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = new ConsumerLoop("it-unacked-dlq", List.of("it.unacked.dlq5"),
          () -> h.clients().consumer("it-unacked-dlq", "it-unacked-dlq"), () -> out, handler, tracing, activity,
          Duration.ofMillis(100), Duration.ofMillis(400), died::set);
      loop.start();
      try {
        // Round 1: out-d0, out-d1 (refused), out-d2, d3's dead letter, out-d4.
        await().atMost(Duration.ofSeconds(30)).until(() -> out.history().size() == 5);
        out.completeNext();
        out.errorNext(new NotEnoughReplicasException("1 replica in sync, 2 required"));
        while (out.completeNext()) {
          // the other three, the dead letter among them
        }
        // Round 2, from d1: d3 is not handled again, its dead letter already written.
        await().atMost(Duration.ofSeconds(30)).until(() -> out.history().size() == 8);
        while (out.completeNext()) {
          // out-d1, out-d2, out-d4
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(stack, "it-unacked-dlq", "it.unacked.dlq5") == 5);
      } finally {
        loop.close();
      }
    }
    List<ProducerRecord<byte[], byte[]>> deadLetters = out.history().stream()
        .filter(r -> r.topic().equals("it.unacked.dlq5.dlq")).toList();
    assertEquals(1, deadLetters.size(), "one copy of the dead letter: " + values(out));
    assertEquals("3", str(deadLetters.get(0).headers().lastHeader("dlq.origin.offset").value()));
    assertEquals(List.of("d0", "d1", "d2", "d3", "d4", "d1", "d2", "d4"), handled);
    assertEquals(List.of("out-d0", "out-d1", "out-d2", "d3", "out-d4", "out-d1", "out-d2", "out-d4"), values(out));
    assertEquals(1, activity.deadLettered(), "counted once, though its batch was handled twice");
    assertNull(died.get());
  }

  /**
   * With concurrency, records of other keys handled and acknowledged past a failed one are not
   * handled again when the retry's own output is not acknowledged either: the rewind goes back to
   * the failed record, and only it is handled until its output is written.
   */
  @Test
  void recordsHandledPastAFailureStayHandledWhenTheRetrysOutputIsNotAcknowledged(EmbeddedStack stack)
      throws Exception {
    createTopics(stack, "it.unacked4");
    Harness h = harness(stack, "it-unacked4");
    for (int i = 0; i < 5; i++) {
      h.producer().send(new ProducerRecord<>("it.unacked4", 0, ("k" + i).getBytes(StandardCharsets.UTF_8),
          ("u" + i).getBytes(StandardCharsets.UTF_8))).get();
    }
    MockProducer<byte[], byte[]> out = unacknowledgingProducer();
    Map<String, AtomicInteger> calls = new java.util.concurrent.ConcurrentHashMap<>();
    AtomicBoolean u1Failed = new AtomicBoolean();
    RecordHandler handler = (rec, o) -> {
      String v = str(rec.value());
      calls.computeIfAbsent(v, k -> new AtomicInteger()).incrementAndGet();
      if (v.equals("u1") && u1Failed.compareAndSet(false, true)) {
        throw new RetriableProcessingException("model server unavailable");
      }
      o.send("it.unacked4.out", str(rec.key()), ("out-" + v).getBytes(StandardCharsets.UTF_8), "t1");
    };
    Activity activity = new Activity(new PrometheusRegistry());
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (Tracing tracing = Tracing.create("loop-it", "i1", h.config())) {
      ConsumerLoop loop = new ConsumerLoop("it-unacked4", List.of("it.unacked4"),
          () -> h.clients().consumer("it-unacked4", "it-unacked4"), () -> out, handler, tracing, activity,
          Duration.ofMillis(100), Duration.ofMillis(400), died::set, 4);
      loop.start();
      try {
        // Round 1: u1 fails, u0 and u2..u4 are handled and their output acknowledged; u0 is committed.
        await().atMost(Duration.ofSeconds(30)).until(() -> out.history().size() == 4);
        while (out.completeNext()) {
          // all four
        }
        // Round 2: u1 alone, its output refused.
        await().atMost(Duration.ofSeconds(30)).until(() -> out.history().size() == 5);
        assertEquals("out-u1", values(out).get(4));
        assertEquals(1, committed(stack, "it-unacked4", "it.unacked4"));
        out.errorNext(new NotEnoughReplicasException("1 replica in sync, 2 required"));
        // Round 3: u1 alone again, acknowledged; all five committed.
        await().atMost(Duration.ofSeconds(30)).until(() -> out.history().size() == 6);
        assertEquals("out-u1", values(out).get(5));
        assertEquals(1, committed(stack, "it-unacked4", "it.unacked4"));
        out.completeNext();
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(stack, "it-unacked4", "it.unacked4") == 5);
        assertEquals(5, activity.handled());
      } finally {
        loop.close();
      }
    }
    assertEquals(Map.of("u0", 1, "u1", 3, "u2", 1, "u3", 1, "u4", 1), calls.entrySet().stream()
        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get())));
    assertEquals(6, out.history().size(), "no output produced twice for u2..u4");
    assertNull(died.get());
  }
}
