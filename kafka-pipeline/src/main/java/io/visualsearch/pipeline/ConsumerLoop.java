package io.visualsearch.pipeline;

import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.tracing.Tracing;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer loop every service runs, after Kafka Connect's sink task:
 * <ul>
 *   <li>a record's offset is committed only after its handler returned and every record it
 *       produced (including a dead-letter copy) was acknowledged by the broker;</li>
 *   <li>on a retriable failure the loop commits what is done, rewinds to the failed record,
 *       pauses every partition and keeps polling (so the group keeps it) until the backoff ends;</li>
 *   <li>any other failure sends the record to {@code <topic>.dlq} with its original headers, its
 *       origin topic/partition/offset and the error, and the loop moves on;</li>
 *   <li>each record is handled inside its own CONSUMER span, continued from its headers, current
 *       only while the handler runs and ended in all cases.</li>
 * </ul>
 */
public final class ConsumerLoop implements Component {

  private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);
  private static final Duration POLL = Duration.ofMillis(200);
  /** How often a batch handled for long polls, far inside any max.poll.interval.ms. */
  private static final Duration KEEP_ALIVE = Duration.ofSeconds(1);

  private final String service;
  private final List<String> topics;
  private final Supplier<org.apache.kafka.clients.consumer.Consumer<byte[], byte[]>> consumerFactory;
  private final Supplier<Producer<byte[], byte[]>> producer;
  private final Tracing tracing;
  private final Activity activity;
  private final Consumer<Throwable> onDeath;
  private final int concurrency;
  // The parts of the loop's work, each documenting which threads use it.
  private final OffsetCommits offsets;
  private final RetryBackoff backoff;
  private final AckSettlement settlement;
  private final PartitionOwnership ownership;
  private final BatchRunner runner;
  private final LagReport lag;
  private ExecutorService workers;
  /** Runs each batch's handling while the poll thread keeps the consumer in its group. */
  private ExecutorService handling;
  /** When the batch in hand started (0: none), and how long one may take before check() fails. */
  private volatile long batchStartedNanos;
  /** When a handler last said it progressed ({@link Outbox#progressed}); the batch's bound counts from it. */
  private volatile long lastProgressNanos;
  private volatile Duration maxBatchTime = KafkaSettings.MAX_BATCH_TIME.defaultValue();
  /** How long a stop waits for the batch in hand; see {@link #drainWithin}. */
  private volatile Duration drainLimit = Duration.ofMinutes(3);
  /** When a stop stops waiting for the batch in hand ({@link System#nanoTime}); set by {@link #close}. */
  private volatile long abandonAtNanos;
  private volatile Supplier<Duration> drainTimeLeft = () -> drainLimit;
  private volatile Consumer<String> drainCutShort = why -> { };

  private volatile boolean running;
  /** Set by the first of {@link #beginStop} and {@link #close}, which fixes the drain's deadline. */
  private final AtomicBoolean stopBegun = new AtomicBoolean();
  private volatile Thread thread;
  private volatile Throwable death;
  private volatile long lastPollNanos;
  /**
   * Without a poll this long the loop is {@link #wedged}: the longest waits between two polls, for
   * acknowledgements and a commit while the broker is away, are three minutes together.
   */
  static final Duration NO_POLL_WEDGED = Duration.ofMinutes(10);
  private org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;

  public ConsumerLoop(String service, List<String> topics,
      Supplier<org.apache.kafka.clients.consumer.Consumer<byte[], byte[]>> consumerFactory,
      Supplier<Producer<byte[], byte[]>> producer, RecordHandler handler, Tracing tracing, Activity activity,
      Duration backoff, Duration backoffMax, Consumer<Throwable> onDeath) {
    this(service, topics, consumerFactory, producer, handler, tracing, activity, backoff, backoffMax, onDeath, 1);
  }

  /**
   * With {@code concurrency > 1} the records of one poll are handled on that many threads; records
   * with the same key still run one after another, in offset order. Used where each record waits
   * on a remote call the remote side batches (the model server).
   */
  public ConsumerLoop(String service, List<String> topics,
      Supplier<org.apache.kafka.clients.consumer.Consumer<byte[], byte[]>> consumerFactory,
      Supplier<Producer<byte[], byte[]>> producer, RecordHandler handler, Tracing tracing, Activity activity,
      Duration backoff, Duration backoffMax, Consumer<Throwable> onDeath, int concurrency) {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be positive");
    }
    this.concurrency = concurrency;
    this.service = service;
    this.topics = List.copyOf(topics);
    this.consumerFactory = consumerFactory;
    this.producer = producer;
    this.tracing = tracing;
    this.activity = activity;
    this.onDeath = onDeath;
    this.offsets = new OffsetCommits(service, () -> consumer);
    this.backoff = new RetryBackoff(service, backoff, backoffMax, () -> consumer);
    this.settlement = new AckSettlement(service, offsets);
    this.ownership = new PartitionOwnership(service, this.topics, () -> consumer, offsets, settlement, this.backoff);
    this.runner = new BatchRunner(service, handler, tracing, activity, () -> running, ownership, settlement);
    this.lag = new LagReport(activity, this, () -> consumer);
  }

  @Override
  public String name() {
    return "consumer[" + String.join(",", topics) + "]";
  }

  @Override
  public void start() {
    consumer = consumerFactory.get();
    if (concurrency > 1) {
      AtomicInteger n = new AtomicInteger();
      workers = Executors.newFixedThreadPool(concurrency, r -> {
        Thread w = new Thread(r, service + "-worker-" + n.incrementAndGet());
        w.setDaemon(true);
        return w;
      });
    }
    handling = Executors.newSingleThreadExecutor(r -> {
      Thread h = new Thread(r, service + "-handler");
      h.setDaemon(true);
      return h;
    });
    stopBegun.set(false);
    running = true;
    lastPollNanos = System.nanoTime();
    Thread t = new Thread(this::run, service + "-consumer");
    t.setDaemon(false);
    thread = t;
    t.start();
  }

  private void run() {
    try {
      consumer.subscribe(topics, ownership.listener());
      while (running) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
        lastPollNanos = System.nanoTime();
        backoff.resumeIfDue();
        activity.polled(records.count());
        if (!records.isEmpty()) {
          processBatch(records);
        }
        reportLagIfDue();
      }
    } catch (BatchAbandonedException e) {
      log.warn("{}: {}", service, e.getMessage());
      drainCutShort.accept(e.getMessage());
    } catch (Throwable e) {
      death = e;
      if (running) {
        log.error("{}: consumer loop died", service, e);
        onDeath.accept(e);
      } else {
        // The service is stopping anyway, but not after the clean drain exit code 0 would say.
        log.error("{}: consumer loop died while draining; the batch in hand is not committed, and its records are "
            + "handled again", service, e);
        drainCutShort.accept("the consumer loop died while draining: " + e);
      }
    } finally {
      handling.shutdownNow();
      if (workers != null) {
        workers.shutdownNow();
      }
      try {
        consumer.close(Duration.ofSeconds(10));
      } catch (RuntimeException e) {
        log.warn("{}: consumer did not close cleanly", service, e);
      }
    }
  }

  /**
   * How long one batch may be handled before check() reports the loop stuck. The poll thread keeps
   * the member in its group while a batch runs, so a handler that never returns would otherwise
   * hold its partitions for ever with the service reported ready.
   */
  public ConsumerLoop maxBatchTime(Duration limit) {
    this.maxBatchTime = limit;
    return this;
  }

  /**
   * How long a stop waits for the batch in hand before abandoning it: its handler is interrupted,
   * nothing of it is committed (its records are handled again by whoever gets the partitions), and
   * the consumer is closed. The service's stop limit bounds the whole stop; a batch that took all
   * of it left the producers unflushed and the consumer unclosed, its partitions idle until the
   * group's session timeout.
   */
  public ConsumerLoop drainWithin(Duration limit) {
    return drainWithin(limit, () -> limit);
  }

  /**
   * The same, with what is left of {@code limit} when the loop closes ({@code timeLeft}, e.g. the
   * service host's {@code stopTimeLeft}): a service with several loops closes them one after the
   * other, and each starting its own allowance would add them up past the stop's limit.
   */
  public ConsumerLoop drainWithin(Duration limit, Supplier<Duration> timeLeft) {
    this.drainLimit = limit;
    this.drainTimeLeft = timeLeft;
    return this;
  }

  /**
   * Told when a stop gives up the batch in hand, at the drain's limit or because the loop died
   * draining it, with why (for the exit code).
   */
  public ConsumerLoop onDrainCutShort(Consumer<String> listener) {
    this.drainCutShort = listener;
    return this;
  }

  private void processBatch(ConsumerRecords<byte[], byte[]> records) throws InterruptedException {
    batchStartedNanos = System.nanoTime();
    try {
      handleBatch(records);
    } finally {
      batchStartedNanos = 0;
    }
  }

  private void handleBatch(ConsumerRecords<byte[], byte[]> records) throws InterruptedException {
    Outbox outbox = new Outbox(producer.get(), tracing, () -> lastProgressNanos = System.nanoTime());
    Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
    Set<ConsumerRecord<byte[], byte[]>> beyond = ConcurrentHashMap.newKeySet();
    ownership.batchBegins();
    ConsumerRecord<byte[], byte[]> failed = awaitPolling(handling.submit(() -> workers == null
        ? runner.processInOrder(records, outbox, done)
        : runner.processConcurrently(records, outbox, done, beyond, workers)));
    Map<TopicPartition, Integer> lostIn = ownership.takeRevokedMidBatch();
    Set<TopicPartition> lost = Set.copyOf(lostIn.keySet());
    Map<TopicPartition, OffsetAndMetadata> lostDone = new HashMap<>(done);
    lostDone.keySet().retainAll(lost);
    done.keySet().removeAll(lost);
    beyond.removeIf(rec -> lost.contains(new TopicPartition(rec.topic(), rec.partition())));
    if (!lost.isEmpty()) {
      log.info("{}: {} revoked while their batch was handled; their new owner handles those records", service, lost);
    }
    // Never rewound: one given back meanwhile resumes from what the member that had it committed.
    Set<TopicPartition> kept = new HashSet<>(records.partitions());
    kept.removeAll(lost);
    AckSettlement.Acks acks = settlement.awaitAcks(outbox.drain());
    if (!acks.all()) {
      // An error on the health page: activity alone would show a loop that commits nothing as busy.
      activity.unacknowledged();
      settlement.settlePartly(records, done, beyond, kept, acks, outbox);
      records.partitions().stream().map(TopicPartition::topic).distinct().forEach(activity::pausedForRetry);
      backoff.backOff("a produced record was not acknowledged");
      return;
    }
    outbox.acknowledged();
    settlement.rememberHandledAhead(beyond);
    ownership.awaitHandback(lostDone, lostIn);
    offsets.commit(done);
    ownership.resumeIfHandedBack(records, done, kept);
    settlement.forgetCommitted(done);
    if (failed != null || !running) {
      offsets.rewind(records, done, kept);
    }
    if (failed != null) {
      activity.pausedForRetry(failed.topic());
      backoff.backOff("retriable failure at " + failed.topic() + "-" + failed.partition() + "@" + failed.offset());
    } else {
      backoff.reset();
    }
  }

  /**
   * Waits for the batch in hand, handled on the handling thread, and keeps polling meanwhile with
   * every partition paused: a poll returns nothing then, but it tells the group the member is alive
   * (max.poll.interval.ms) and serves rebalances. A batch that outlasted the interval (a similar-
   * items job over a large catalog) otherwise got the member expelled, its commit refused and the
   * same records handed out again, forever. Partitions revoked meanwhile are handled to the end
   * but not committed (see {@link PartitionOwnership}); their new owner handles those records again,
   * as handlers allow.
   */
  private ConsumerRecord<byte[], byte[]> awaitPolling(Future<ConsumerRecord<byte[], byte[]>> batch)
      throws InterruptedException {
    try {
      try {
        return batch.get(KEEP_ALIVE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException quickBatchesEndHere) {
        ownership.longBatchBegins();
        consumer.pause(consumer.assignment());
        try {
          while (true) {
            // A poll that does not wait: the wait is on the batch itself, which is taken up the
            // moment it ends (a blocking poll here held every batch up to its timeout longer, and
            // the embeddings-generator's model runs with it).
            ConsumerRecords<byte[], byte[]> stray = consumer.poll(Duration.ZERO);
            lastPollNanos = System.nanoTime();
            // Records pile up behind a batch of minutes (a similar-items job): the page must see it.
            reportLagIfDue();
            for (TopicPartition tp : stray.partitions()) {
              // Not expected from paused partitions; fetched again once resumed.
              consumer.seek(tp, stray.records(tp).get(0).offset());
            }
            try {
              return batch.get(KEEP_ALIVE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException stillRunning) {
              if (!running && System.nanoTime() - abandonAtNanos >= 0) {
                batch.cancel(true);
                throw new BatchAbandonedException("stopping: the batch in hand outlasted the drain limit ("
                    + drainLimit + "); it is not committed, and its records are handled again");
              }
              // poll again
            }
          }
        } finally {
          ownership.longBatchEnds();
          consumer.resume(consumer.assignment());
        }
      }
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Error fatal) {
        throw fatal;
      }
      if (cause instanceof InterruptedException interrupted) {
        throw interrupted;
      }
      throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    }
  }

  private void reportLagIfDue() {
    lag.reportIfDue(running);
  }

  /** Whether the group has assigned this member partitions at least once since it started. */
  public boolean assignedOnce() {
    return ownership.assignedOnce();
  }

  /** Partitions this member owns now, of how many its topics have (0 before the first assignment). */
  public String ownership() {
    return ownership.describe();
  }

  /**
   * Whether it owns fewer than all partitions of its topics, none included: another member shares
   * its group. For a service that must see all of a topic (the index-builder), that means two
   * instances each working from part of it, or, with more instances than partitions, one working
   * from none of it. False only before the first assignment (a start), when the topics' partitions
   * are not known yet. A rebalance revokes before it assigns (all of them, in an eager one), so a
   * lone member reads as shared while one runs, and alone again once its assignment completes; the
   * consumer's close revokes everything too, so a stopped loop reads as shared.
   */
  public boolean sharesItsGroup() {
    return ownership.sharesItsGroup();
  }

  @Override
  public CheckResult check() {
    Thread t = thread;
    if (t == null) {
      return CheckResult.failed("not started");
    }
    Throwable d = death;
    if (d != null || !t.isAlive()) {
      return CheckResult.failed("poll thread is dead" + (d == null ? "" : ": " + d));
    }
    long sincePoll = System.nanoTime() - lastPollNanos;
    if (sincePoll > TimeUnit.MINUTES.toNanos(3)) {
      return CheckResult.failed("no poll for " + TimeUnit.NANOSECONDS.toSeconds(sincePoll) + " s");
    }
    long batchNanos = withoutProgressNanos(System.nanoTime());
    if (batchNanos > maxBatchTime.toNanos()) {
      return CheckResult.failed("one batch handled for " + TimeUnit.NANOSECONDS.toSeconds(batchNanos)
          + " s without progress, more than KAFKA_MAX_BATCH_TIME (" + maxBatchTime + "): a handler may be stuck");
    }
    Throwable refused = settlement.refusedSend();
    if (refused != null) {
      return CheckResult.failed("the broker refuses a record this service produced, and retrying cannot help, so "
          + "its partitions cannot advance: " + refused);
    }
    return backoff.paused() ? new CheckResult(true, "backing off after a retriable failure") : CheckResult.OK;
  }

  /** How long the batch in hand has gone without starting or a handler's progress; 0 between batches. */
  private long withoutProgressNanos(long now) {
    long started = batchStartedNanos;
    return started == 0 ? 0 : now - Math.max(started, lastProgressNanos);
  }

  /**
   * A restart is needed: one batch past twice {@code KAFKA_MAX_BATCH_TIME} without progress, or no poll for
   * {@link #NO_POLL_WEDGED}. A handler stuck on a call without a deadline keeps this member in the
   * group, its partitions paused and polled: the group never hands them to another instance, and
   * not ready alone changes nothing for a worker that takes no requests. A stop's drain has its
   * own limit, so nothing is wedged once it begins.
   */
  @Override
  public String wedged() {
    if (thread == null || stopBegun.get()) {
      return null;
    }
    long now = System.nanoTime();
    Duration batch = Duration.ofNanos(withoutProgressNanos(now));
    if (batch.compareTo(maxBatchTime.multipliedBy(2)) > 0) {
      return "one batch handled for " + batch.toSeconds() + " s without progress, more than twice"
          + " KAFKA_MAX_BATCH_TIME (" + maxBatchTime + "): a handler is stuck, and only a restart hands its"
          + " partitions to the group";
    }
    Duration sincePoll = Duration.ofNanos(now - lastPollNanos);
    if (sincePoll.compareTo(NO_POLL_WEDGED) > 0) {
      return "no poll for " + sincePoll.toSeconds() + " s: the poll thread is stuck";
    }
    return null;
  }

  /**
   * Stops intake at once: no record is started after it, and the poll thread leaves after the
   * batch in hand, which {@link #close} waits for. The host calls it on every loop when the stop
   * begins: a loop closed after another one otherwise kept polling, and starting records, while
   * that one drained.
   */
  @Override
  public void beginStop() {
    if (stopBegun.compareAndSet(false, true)) {
      // Before running: the poll thread reads the deadline once it sees the loop stopping.
      abandonAtNanos = System.nanoTime() + drainTimeLeft.get().toNanos();
      running = false;
    }
  }

  /** Stops intake, lets the batch in hand finish (acknowledged and committed), then closes. */
  @Override
  public void close() {
    beginStop();
    Thread t = thread;
    if (t != null && t != Thread.currentThread()) {
      try {
        // The drain, then the consumer's own close (10 s at most).
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(abandonAtNanos - System.nanoTime()))
            + TimeUnit.SECONDS.toMillis(15));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    // A loop replaced by another (the generator's per model version) no longer counts.
    activity.forgetLag(this);
  }

  /** Ends the poll thread at a stop whose drain limit passed; its batch is left uncommitted. */
  private static final class BatchAbandonedException extends RuntimeException {
    BatchAbandonedException(String message) {
      super(message, null, false, false);
    }
  }
}
