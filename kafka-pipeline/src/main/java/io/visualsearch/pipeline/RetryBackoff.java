package io.visualsearch.pipeline;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer loop's pause after a failed batch: every partition paused, the consumer still
 * polled (so the group keeps it), for a backoff that doubles per attempt up to its ceiling, each
 * pause jittered.
 *
 * <p>Threads: the poll thread alone changes it (a batch's end, the poll loop's resume, the
 * rebalance listener's read of {@link #paused}). {@link ConsumerLoop#check} also reads
 * {@link #paused} on its caller's thread; the field is a plain one, as it was in the loop.
 */
final class RetryBackoff {

  private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);

  private final String service;
  private final Duration backoff;
  private final Duration backoffMax;
  /** The poll thread's consumer, made by {@link ConsumerLoop#start}. */
  private final Supplier<Consumer<byte[], byte[]>> consumer;
  private boolean paused;
  private long resumeAtNanos;
  private int attempt;

  RetryBackoff(String service, Duration backoff, Duration backoffMax, Supplier<Consumer<byte[], byte[]>> consumer) {
    this.service = service;
    this.backoff = backoff;
    this.backoffMax = backoffMax;
    this.consumer = consumer;
  }

  /** Pauses every partition for the next attempt's backoff. */
  void backOff(String why) {
    Consumer<byte[], byte[]> consumer = this.consumer.get();
    long delay = jittered(Math.min(backoffMax.toMillis(), backoff.toMillis() << Math.min(attempt, 20)),
        ThreadLocalRandom.current().nextDouble());
    attempt++;
    consumer.pause(consumer.assignment());
    paused = true;
    resumeAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
    log.info("{}: {}; paused {} partitions for {} ms (attempt {})", service, why, consumer.assignment().size(), delay, attempt);
  }

  /** After a poll: resumes every paused partition once the backoff has ended. */
  void resumeIfDue() {
    if (paused && System.nanoTime() >= resumeAtNanos) {
      Consumer<byte[], byte[]> consumer = this.consumer.get();
      consumer.resume(consumer.paused());
      paused = false;
    }
  }

  /** A batch went through: the next failure starts again from the first backoff. */
  void reset() {
    attempt = 0;
  }

  /** Whether the loop is backing off now. */
  boolean paused() {
    return paused;
  }

  /**
   * Between half and all of {@code ceilingMillis} ({@code random} in [0, 1)): replicas that failed
   * together (the model server or the store went down under all of them) would otherwise come back
   * on the same schedule, each with its batch in flight, in waves onto a dependency still recovering.
   */
  static long jittered(long ceilingMillis, double random) {
    long low = (ceilingMillis + 1) / 2;
    return Math.min(ceilingMillis, low + (long) (random * (ceilingMillis - low + 1)));
  }
}
