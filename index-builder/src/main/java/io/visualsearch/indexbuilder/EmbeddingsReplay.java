package io.visualsearch.indexbuilder;

import io.visualsearch.pipeline.TopicReplay;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
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
    long[] appliedAndSkipped = new long[2];
    try (Consumer<byte[], byte[]> consumer = consumers.get()) {
      Map<TopicPartition, Long> ends;
      try {
        ends = TopicReplay.toEnd(consumer, topic, timeout, rec -> appliedAndSkipped[intake.replay(rec) ? 0 : 1]++);
      } catch (TimeoutException e) {
        throw new IllegalStateException(e.getMessage() + "; raise INDEX_BUILDER_REPLAY_TIMEOUT", e);
      }
      for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
        if (e.getValue() > 0) {
          catalogs.advance(e.getKey().partition(), e.getValue() - 1);
        }
      }
      // Until the intake's first assignment shows otherwise, another member (the pod this one
      // replaces, still running on a lost node) may handle and commit records past these ends.
      catalogs.watchForSkips();
    }
    int refused = intake.replayed();
    List<String> tenants = catalogs.tenants();
    schedule.replayed(tenants, clock.millis());
    done = true;
    log.info("replayed {}: {} records applied, {} refused, {} products' latest vectors refused as {}, {} tenants, {} ms",
        topic, appliedAndSkipped[0], appliedAndSkipped[1], refused, TenantCatalog.WRONG_DIMENSION, tenants.size(),
        (System.nanoTime() - t0) / 1_000_000);
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
