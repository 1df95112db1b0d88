package io.visualsearch.deploy;

import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.topics.Topic;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * where it was). Progress is committed in a consumer group of its own per topic and filter, after
 * the records sent are acknowledged, so a run stopped part-way, or run again, goes on where the
 * last one ended instead of sending the same letters twice.
 */
final class DeadLetterRedrive {

  /** Names the dead letter a redriven record came from: {@code <dlq-topic>-<partition>@<offset>}. */
  static final String REDRIVEN_FROM = "redriven.from";

  /** What a run did, by dead-letter reason. */
  record Outcome(Map<String, Integer> redriven, Map<String, Integer> skipped, int withoutOrigin) {}

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
   * dead letters whose reason {@code accepts} back; with {@code dryRun} only counts them, sending
   * and committing nothing.
   */
  Outcome run(String dlqTopic, Predicate<String> accepts, boolean dryRun) throws InterruptedException, TimeoutException,
      ExecutionException {
    if (!dlqTopic.endsWith(Topic.DLQ_SUFFIX)) {
      throw new IllegalArgumentException(dlqTopic + " is not a dead-letter topic (<topic>" + Topic.DLQ_SUFFIX + ")");
    }
    String origin = dlqTopic.substring(0, dlqTopic.length() - Topic.DLQ_SUFFIX.length());
    List<PartitionInfo> infos = consumer.partitionsFor(dlqTopic, stall);
    if (infos == null || infos.isEmpty()) {
      throw new IllegalArgumentException("no topic " + dlqTopic);
    }
    List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
    consumer.assign(partitions);
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new java.util.HashSet<>(partitions), stall);
    Map<TopicPartition, Long> beginning = consumer.beginningOffsets(partitions, stall);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions, stall);
    for (TopicPartition tp : partitions) {
      OffsetAndMetadata c = committed.get(tp);
      consumer.seek(tp, c == null ? beginning.get(tp) : Math.max(c.offset(), beginning.get(tp)));
    }
    Map<String, Integer> redriven = new TreeMap<>();
    Map<String, Integer> skipped = new TreeMap<>();
    int withoutOrigin = 0;
    long lastProgress = System.nanoTime();
    while (!reachedEnd(partitions, end)) {
      var records = consumer.poll(Duration.ofMillis(500));
      if (records.isEmpty()) {
        if (System.nanoTime() - lastProgress > stall.toNanos()) {
          throw new TimeoutException("read nothing of " + dlqTopic + " for " + stall + " before its end " + end);
        }
        continue;
      }
      lastProgress = System.nanoTime();
      List<Future<RecordMetadata>> sends = new ArrayList<>();
      Map<TopicPartition, OffsetAndMetadata> upTo = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> rec : records) {
        TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
        if (rec.offset() >= end.get(tp)) {
          continue; // written after the run started: the next run's
        }
        upTo.put(tp, new OffsetAndMetadata(rec.offset() + 1));
        String from = header(rec.headers(), PipelineHeaders.DLQ_ORIGIN_TOPIC);
        String reason = header(rec.headers(), PipelineHeaders.DLQ_REASON);
        if (!origin.equals(from)) {
          withoutOrigin++; // not a dead letter of that topic: left where it is
        } else if (!accepts.test(reason)) {
          skipped.merge(String.valueOf(reason), 1, Integer::sum);
        } else {
          redriven.merge(String.valueOf(reason), 1, Integer::sum);
          if (!dryRun) {
            sends.add(producer.send(new ProducerRecord<>(origin, null, rec.key(), rec.value(), originalHeaders(rec))));
          }
        }
      }
      if (!dryRun) {
        producer.flush();
        for (Future<RecordMetadata> f : sends) {
          f.get(stall.toMillis(), TimeUnit.MILLISECONDS);
        }
        consumer.commitSync(upTo, stall);
      }
    }
    return new Outcome(redriven, skipped, withoutOrigin);
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
