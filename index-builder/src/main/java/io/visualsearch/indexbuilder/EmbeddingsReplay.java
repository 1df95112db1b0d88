package io.visualsearch.indexbuilder;

import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the in-memory catalogs at start-up by reading the compacted embeddings topic from the
 * beginning to the end offsets seen at start, with its own assigned consumer (no group, no
 * commits). The consumer group's committed offsets say what was handled, not what the state
 * holds, so the state cannot come from the group; the loop then resumes from the committed
 * offsets and {@link Catalogs} skips what this replay already applied.
 */
final class EmbeddingsReplay implements Component {

  private static final Logger log = LoggerFactory.getLogger(EmbeddingsReplay.class);

  private final Supplier<Consumer<byte[], byte[]>> consumers;
  private final String topic;
  private final EmbeddingIntake intake;
  private final Catalogs catalogs;
  private final RebuildSchedule schedule;
  private final Duration timeout;
  private final Clock clock;
  private volatile boolean done;

  EmbeddingsReplay(Supplier<Consumer<byte[], byte[]>> consumers, String topic, EmbeddingIntake intake, Catalogs catalogs,
      RebuildSchedule schedule, Duration timeout, Clock clock) {
    this.consumers = consumers;
    this.topic = topic;
    this.intake = intake;
    this.catalogs = catalogs;
    this.schedule = schedule;
    this.timeout = timeout;
    this.clock = clock;
  }

  @Override
  public String name() {
    return "embeddings-replay";
  }

  @Override
  public void start() throws Exception {
    long t0 = System.nanoTime();
    long deadline = t0 + timeout.toNanos();
    long applied = 0;
    long skipped = 0;
    try (Consumer<byte[], byte[]> consumer = consumers.get()) {
      List<TopicPartition> partitions = new ArrayList<>();
      List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
      if (infos == null || infos.isEmpty()) {
        throw new IllegalStateException("topic " + topic + " does not exist or has no partitions");
      }
      for (PartitionInfo p : infos) {
        partitions.add(new TopicPartition(topic, p.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, timeout);
      while (!reached(consumer, ends)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("replay of " + topic + " did not reach the end offsets " + ends
              + " within " + timeout + "; raise INDEX_BUILDER_REPLAY_TIMEOUT");
        }
        for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(200))) {
          if (rec.offset() >= ends.get(new TopicPartition(rec.topic(), rec.partition()))) {
            continue;
          }
          if (intake.replay(rec)) {
            applied++;
          } else {
            skipped++;
          }
        }
      }
      for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
        if (e.getValue() > 0) {
          catalogs.advance(e.getKey().partition(), e.getValue() - 1);
        }
      }
    }
    List<String> tenants = catalogs.tenants();
    schedule.replayed(tenants, clock.millis());
    done = true;
    log.info("replayed {}: {} records applied, {} refused, {} tenants, {} ms", topic, applied, skipped, tenants.size(),
        (System.nanoTime() - t0) / 1_000_000);
  }

  private static boolean reached(Consumer<byte[], byte[]> consumer, Map<TopicPartition, Long> ends) {
    Collection<TopicPartition> partitions = ends.keySet();
    for (TopicPartition tp : partitions) {
      if (consumer.position(tp) < ends.get(tp)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public CheckResult check() {
    return done ? CheckResult.OK : CheckResult.failed("replaying " + topic);
  }

  @Override
  public void close() {
    // The replay consumer is closed when start() returns.
  }
}
