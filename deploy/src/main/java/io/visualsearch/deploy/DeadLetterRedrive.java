package io.visualsearch.deploy;

import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.topics.Topic;
import io.visualsearch.topics.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Sends dead letters back to the topic they came from, once what made them fail is fixed (a
 * retailer's CDN back, a larger container, a corrected feed): each record of {@code <topic>.dlq}
 * up to its end when the run starts, whose reason the filter accepts, goes to {@code <topic>} with
 * * its key, value and original headers ({@code dlq.*} left out, {@code redriven.from} added, naming
 * where it was), unless a later record of its key is on the topic already: the letter would then
 * bring back what that record replaced (a product removed from the feed since, a picture changed),
 * and in a compacted topic for good. Progress is committed in a consumer group of its own per topic and filter, after
 * the records sent are acknowledged, so a run stopped part-way, or run again, goes on where the
 * last one ended instead of sending the same letters twice.
 */
final class DeadLetterRedrive {

  /** Names the dead letter a redriven record came from: {@code <dlq-topic>-<partition>@<offset>}. */
  static final String REDRIVEN_FROM = "redriven.from";

  /**
   * What a run did, by dead-letter reason: sent back, left by the filter, and left because a later
   * record of the same key is on the topic already (sending the letter would bring back what that
   * record replaced: a product removed from the feed, a picture changed since).
   */
  record Outcome(Map<String, Integer> redriven, Map<String, Integer> skipped, Map<String, Integer> superseded,
      int withoutOrigin) {}

  /** A dead letter of the topic, read: the record and where its original sat. */
  private record Letter(ConsumerRecord<byte[], byte[]> record, String reason, int partition, long offset) {}

  private final Consumer<byte[], byte[]> consumer;
  private final Producer<byte[], byte[]> producer;
  private final Duration stall;

  /**
   * @param consumer in the run's own group (see {@link #groupId}), not auto-committing
   * @param stall how long the run may read nothing before it gives up
   */
  DeadLetterRedrive(Consumer<byte[], byte[]> consumer, Producer<byte[], byte[]> producer, Duration stall) {
    this.consumer = consumer;
    this.producer = producer;
    this.stall = stall;
  }

  /** The group keeping a run's progress: one per dead-letter topic and reason filter. */
  static String groupId(String dlqTopic, String reason) {
    return "visual-search-redrive." + dlqTopic + (reason == null ? "" : "." + reason);
  }

  /**
   * Reads {@code dlqTopic} from the group's committed offsets to the end it has now and sends the
   * dead letters whose reason {@code accepts} back, except those a later record of their key on
   * the topic has replaced; with {@code dryRun} only counts them, sending and committing nothing.
   */
  Outcome run(String dlqTopic, Predicate<String> accepts, boolean dryRun) throws InterruptedException, TimeoutException,
      ExecutionException {
    if (!dlqTopic.endsWith(Topic.DLQ_SUFFIX)) {
      throw new IllegalArgumentException(dlqTopic + " is not a dead-letter topic (<topic>" + Topic.DLQ_SUFFIX + ")");
    }
    String origin = dlqTopic.substring(0, dlqTopic.length() - Topic.DLQ_SUFFIX.length());
    List<TopicPartition> letterPartitions = partitions(dlqTopic);
    consumer.assign(letterPartitions);
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new java.util.HashSet<>(letterPartitions),
        stall);
    Map<TopicPartition, Long> beginning = consumer.beginningOffsets(letterPartitions, stall);
    Map<TopicPartition, Long> end = consumer.endOffsets(letterPartitions, stall);
    for (TopicPartition tp : letterPartitions) {
      OffsetAndMetadata c = committed.get(tp);
      consumer.seek(tp, c == null ? beginning.get(tp) : Math.max(c.offset(), beginning.get(tp)));
    }
    Map<String, Integer> redriven = new TreeMap<>();
    Map<String, Integer> skipped = new TreeMap<>();
    Map<String, Integer> superseded = new TreeMap<>();
    int withoutOrigin = 0;
    List<Letter> toSend = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> rec : readToEnd(letterPartitions, end)) {
      String from = header(rec.headers(), PipelineHeaders.DLQ_ORIGIN_TOPIC);
      String reason = String.valueOf(header(rec.headers(), PipelineHeaders.DLQ_REASON));
      if (!origin.equals(from)) {
        withoutOrigin++; // not a dead letter of that topic: left where it is
      } else if (!accepts.test(reason)) {
        skipped.merge(reason, 1, Integer::sum);
      } else {
        toSend.add(new Letter(rec, reason, (int) number(header(rec.headers(), PipelineHeaders.DLQ_ORIGIN_PARTITION)),
            number(header(rec.headers(), PipelineHeaders.DLQ_ORIGIN_OFFSET))));
      }
    }
    OriginRecords originRecords = originRecords(origin, toSend);
    List<Future<RecordMetadata>> sends = new ArrayList<>();
    for (Letter l : toSend) {
      if (originRecords.replaced(l)) {
        superseded.merge(l.reason(), 1, Integer::sum);
        continue;
      }
      redriven.merge(l.reason(), 1, Integer::sum);
      if (!dryRun) {
        ConsumerRecord<byte[], byte[]> rec = l.record();
        sends.add(producer.send(new ProducerRecord<>(origin, null, rec.key(), rec.value(), originalHeaders(rec))));
      }
    }
    if (!dryRun) {
      producer.flush();
      for (Future<RecordMetadata> f : sends) {
        f.get(stall.toMillis(), TimeUnit.MILLISECONDS);
      }
      Map<TopicPartition, OffsetAndMetadata> upTo = new HashMap<>();
      end.forEach((tp, o) -> upTo.put(tp, new OffsetAndMetadata(o)));
      consumer.assign(letterPartitions);
      consumer.commitSync(upTo, stall);
    }
    return new Outcome(redriven, skipped, superseded, withoutOrigin);
  }

  private List<TopicPartition> partitions(String topic) {
    List<PartitionInfo> infos = consumer.partitionsFor(topic, stall);
    if (infos == null || infos.isEmpty()) {
      throw new IllegalArgumentException("no topic " + topic);
    }
    return infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
  }

  /** Every record of the assigned {@code partitions} from their positions up to {@code end}. */
  private List<ConsumerRecord<byte[], byte[]>> readToEnd(List<TopicPartition> partitions, Map<TopicPartition, Long> end)
      throws TimeoutException {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    long lastProgress = System.nanoTime();
    while (!reachedEnd(partitions, end)) {
      var records = consumer.poll(Duration.ofMillis(500));
      if (records.isEmpty()) {
        if (System.nanoTime() - lastProgress > stall.toNanos()) {
          throw new TimeoutException("read nothing of " + partitions + " for " + stall + " before their end " + end);
        }
        continue;
      }
      lastProgress = System.nanoTime();
      for (ConsumerRecord<byte[], byte[]> rec : records) {
        if (rec.offset() < end.get(new TopicPartition(rec.topic(), rec.partition()))) {
          out.add(rec); // a later one is the next run's
        }
      }
    }
    return out;
  }

  /**
   * What became of the letters' records on {@code origin}: per partition, the offset of the latest
   * record of each letter's key, and which records of those keys are still there, read from the
   * earliest letter's original onwards.
   */
  private OriginRecords originRecords(String origin, List<Letter> letters) throws TimeoutException {
    Map<TopicPartition, Long> from = new HashMap<>();
    Map<TopicPartition, Set<ByteBuffer>> keys = new HashMap<>();
    for (Letter l : letters) {
      if (l.record().key() != null && l.partition() >= 0 && l.offset() >= 0) {
        TopicPartition tp = new TopicPartition(origin, l.partition());
        from.merge(tp, l.offset(), Math::min);
        keys.computeIfAbsent(tp, k -> new HashSet<>()).add(ByteBuffer.wrap(l.record().key()));
      }
    }
    boolean compacted = Topics.pipeline().stream().anyMatch(t -> t.name().equals(origin) && t.compacted());
    OriginRecords found = new OriginRecords(origin, compacted, new HashMap<>(), new HashSet<>());
    if (from.isEmpty()) {
      return found;
    }
    List<TopicPartition> partitions = List.copyOf(from.keySet());
    consumer.assign(partitions);
    Map<TopicPartition, Long> beginning = consumer.beginningOffsets(partitions, stall);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions, stall);
    for (TopicPartition tp : partitions) {
      consumer.seek(tp, Math.max(from.get(tp), beginning.get(tp)));
    }
    for (ConsumerRecord<byte[], byte[]> rec : readToEnd(partitions, end)) {
      TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
      if (rec.key() != null && keys.get(tp).contains(ByteBuffer.wrap(rec.key()))) {
        found.latest().computeIfAbsent(tp, k -> new HashMap<>()).merge(ByteBuffer.wrap(rec.key()), rec.offset(),
            Math::max);
        found.present().add(new KeyAt(tp, rec.offset(), ByteBuffer.wrap(rec.key())));
      }
    }
    return found;
  }

  private record KeyAt(TopicPartition partition, long offset, ByteBuffer key) {}

  /** On the origin topic: the latest offset of each letter's key per partition, and the letters' keys' records still there. */
  private record OriginRecords(String topic, boolean compacted, Map<TopicPartition, Map<ByteBuffer, Long>> latest,
      Set<KeyAt> present) {

    /**
     * Whether a later record of its key replaced the letter's: one is on the partition, or, on a
     * compacted topic, its own record is gone from its offset. Compaction removes a record only
     * once a later one of its key replaced it, and that one may be gone as well (a tombstone is
     * kept for a while only): sent back, a removed product's letter would return it for good, since
     * the feed, whose snapshot no longer holds it, would never remove it again.
     */
    boolean replaced(Letter l) {
      if (l.record().key() == null || l.partition() < 0 || l.offset() < 0) {
        return false;
      }
      TopicPartition tp = new TopicPartition(topic, l.partition());
      ByteBuffer key = ByteBuffer.wrap(l.record().key());
      Long newest = latest.getOrDefault(tp, Map.of()).get(key);
      return newest != null && newest > l.offset() || compacted && !present.contains(new KeyAt(tp, l.offset(), key));
    }
  }

  private static long number(String s) {
    try {
      return s == null ? -1 : Long.parseLong(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private boolean reachedEnd(List<TopicPartition> partitions, Map<TopicPartition, Long> end) {
    for (TopicPartition tp : partitions) {
      if (consumer.position(tp, stall) < end.get(tp)) {
        return false;
      }
    }
    return true;
  }

  /** The record's headers as its producer wrote them, and where the dead letter was. */
  static Headers originalHeaders(ConsumerRecord<byte[], byte[]> rec) {
    Headers out = new RecordHeaders();
    for (Header h : rec.headers()) {
      if (!h.key().startsWith("dlq.")) {
        out.add(h.key(), h.value());
      }
    }
    out.add(REDRIVEN_FROM, (rec.topic() + "-" + rec.partition() + "@" + rec.offset()).getBytes(StandardCharsets.UTF_8));
    return out;
  }

  private static String header(Headers headers, String key) {
    Header h = headers.lastHeader(key);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
