package io.visualsearch.pipeline;

import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/**
 * The consumer loop's lag, reported to {@link Activity} every 2 s: records behind the end of the
 * partitions it is assigned, paused ones included.
 *
 * <p>Threads: the poll thread alone (between polls, and between the keep-alive polls of a long
 * batch).
 */
final class LagReport {

  /** A lookup of paused partitions' ends, every 2 s on the poll thread: short, as polls wait on it. */
  private static final Duration LAG_LOOKUP_TIMEOUT = Duration.ofMillis(500);

  private final Activity activity;
  /** Whose lag it is: the key {@link Activity} counts it under. */
  private final Object loop;
  /** The poll thread's consumer, made by {@link ConsumerLoop#start}. */
  private final Supplier<Consumer<byte[], byte[]>> consumer;
  /** When the lag is next reported; the poll thread's alone. */
  private long nextLagNanos;

  LagReport(Activity activity, Object loop, Supplier<Consumer<byte[], byte[]>> consumer) {
    this.activity = activity;
    this.loop = loop;
    this.consumer = consumer;
  }

  /** Reports the lag if 2 s passed since the last report, and the loop is still {@code running}. */
  void reportIfDue(boolean running) {
    // Not once stopping: a report after close's forgetLag would count a gone loop for good.
    if (running && System.nanoTime() >= nextLagNanos) {
      activity.lag(loop, currentLag());
      nextLagNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    }
  }

  private long currentLag() {
    Consumer<byte[], byte[]> consumer = this.consumer.get();
    Map<TopicPartition, Long> ends = pausedEnds();
    long total = 0;
    for (TopicPartition tp : consumer.assignment()) {
      Long end = ends.get(tp);
      if (end != null) {
        try {
          total += Math.max(0, end - consumer.position(tp, Duration.ZERO));
          continue;
        } catch (KafkaException | IllegalStateException noPositionYet) {
          // the figure the consumer has cached, below
        }
      }
      OptionalLong lag = consumer.currentLag(tp);
      if (lag.isPresent()) {
        total += lag.getAsLong();
      }
    }
    return total;
  }

  /**
   * The log ends of paused partitions, asked of the broker: the consumer learns a partition's end
   * from its fetches, and a paused one is not fetched, so behind a batch of minutes (a similar-
   * items job) or a retry backoff its cached lag stayed at what it was when it paused while
   * records piled up. A lookup that fails leaves the cached figure.
   */
  private Map<TopicPartition, Long> pausedEnds() {
    Consumer<byte[], byte[]> consumer = this.consumer.get();
    Set<TopicPartition> paused = consumer.paused();
    if (paused.isEmpty()) {
      return Map.of();
    }
    try {
      return consumer.endOffsets(paused, LAG_LOOKUP_TIMEOUT);
    } catch (KafkaException e) {
      return Map.of();
    }
  }
}
