package io.visualsearch.pipeline;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.tracing.KafkaHeadersCarrier;
import io.visualsearch.tracing.Tracing;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

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
  private static final Duration SEND_ACK_TIMEOUT = Duration.ofMinutes(2);
  /** A lookup of paused partitions' ends, every 2 s on the poll thread: short, as polls wait on it. */
  private static final Duration LAG_LOOKUP_TIMEOUT = Duration.ofMillis(500);

  private final String service;
  private final List<String> topics;
  private final Supplier<org.apache.kafka.clients.consumer.Consumer<byte[], byte[]>> consumerFactory;
  private final Supplier<Producer<byte[], byte[]>> producer;
  private final RecordHandler handler;
  private final Tracing tracing;
  private final Activity activity;
  private final Duration backoff;
  private final Duration backoffMax;
  private final Consumer<Throwable> onDeath;
  private final DeadLetters deadLetters;
  private final int concurrency;
  private ExecutorService workers;
  /** Runs each batch's handling while the poll thread keeps the consumer in its group. */
  private ExecutorService handling;
  private volatile boolean handlingLong;
  /** Records handled (output acknowledged) beyond a failed one of their partition, until committed. */
  private final Set<RecordPosition> handledAhead = ConcurrentHashMap.newKeySet();
  /**
   * Partitions taken from this member while a batch was handled, with the group generation they
   * were taken in. The group coordinator checks a commit's generation, not who owns the partition:
   * committing the batch's offsets for them could move their new owner's committed offset back
   * (its records replayed later) or past what it has handled. Their new owner handles those
   * records again. One given back later than straight back stays here, and is not this batch's:
   * the member that had it meanwhile handled and committed records after the batch's. Read by
   * {@link #stillOwned} on the handling threads.
   */
  private final Map<TopicPartition, Integer> revokedMidBatch = new ConcurrentHashMap<>();
  /**
   * Partitions revoked since the last assignment, with the generation they were taken in: the
   * next assignment tells whether another member had them meanwhile. Touched on the poll thread only.
   */
  private final Map<TopicPartition, Integer> revokedSinceAssignment = new HashMap<>();
  /**
   * What the last batch handled, acknowledged and could not commit, of partitions revoked during it
   * and not yet assigned again when it ended, with the generation they were taken in: given back
   * in the very next generation, nobody else owned them meanwhile, so those offsets are committed
   * then instead of the whole batch being handled again (a similar-items job of minutes). Any
   * other assignment drops them. Touched on the poll thread only.
   */
  private final Map<TopicPartition, HandledBeforeRevocation> awaitingHandback = new HashMap<>();
  /** Whether a rebalance revoked anything while the batch in hand was handled. */
  private boolean rebalancedMidBatch;
  /**
   * Partitions of the batch in hand whose remaining records were not started because the
   * partition was taken meanwhile: the new owner handles them, and output produced here after
   * its own would overwrite newer records of the same keys in compacted topics.
   */
  private final Set<TopicPartition> leftToNewOwner = ConcurrentHashMap.newKeySet();
  /** What this member owns now, and how many partitions its topics have; read from other threads. */
  private volatile Set<TopicPartition> owned = Set.of();
  private volatile int partitionsOfTopics;
  /** When the batch in hand started (0: none), and how long one may take before check() fails. */
  private volatile long batchStartedNanos;
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
  /** Why the last batch's records were refused for good (too large, not authorised); null once one is acknowledged. */
  private volatile Throwable refusedSend;
  private volatile long lastPollNanos;
  private org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
  private boolean paused;
  private long resumeAtNanos;
  private int attempt;

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
    this.handler = handler;
    this.tracing = tracing;
    this.activity = activity;
    this.backoff = backoff;
    this.backoffMax = backoffMax;
    this.onDeath = onDeath;
    this.deadLetters = new DeadLetters(service);
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
      consumer.subscribe(topics, new PauseNewPartitionsWhileBackingOff());
      while (running) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
        lastPollNanos = System.nanoTime();
        if (paused && System.nanoTime() >= resumeAtNanos) {
          consumer.resume(consumer.paused());
          paused = false;
        }
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
    Outbox outbox = new Outbox(producer.get(), tracing);
    Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
    Set<ConsumerRecord<byte[], byte[]>> beyond = ConcurrentHashMap.newKeySet();
    revokedMidBatch.clear();
    rebalancedMidBatch = false;
    leftToNewOwner.clear();
    awaitingHandback.clear();
    ConsumerRecord<byte[], byte[]> failed = awaitPolling(handling.submit(() -> workers == null
        ? processInOrder(records, outbox, done)
        : processConcurrently(records, outbox, done, beyond)));
    Map<TopicPartition, Integer> lostIn = new HashMap<>(revokedMidBatch);
    Set<TopicPartition> lost = Set.copyOf(lostIn.keySet());
    revokedMidBatch.clear();
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
    Acks acks = awaitAcks(outbox.drain());
    if (!acks.all()) {
      // An error on the health page: activity alone would show a loop that commits nothing as busy.
      activity.unacknowledged();
      settlePartly(records, done, beyond, kept, acks, outbox);
      backOff("a produced record was not acknowledged");
      return;
    }
    outbox.acknowledged();
    // Handled, and their records acknowledged, past a failure: not committable yet (offsets are a
    // prefix), but not to be handled again when the batch is retried, which would produce their
    // output twice.
    for (ConsumerRecord<byte[], byte[]> rec : beyond) {
      handledAhead.add(new RecordPosition(new TopicPartition(rec.topic(), rec.partition()), rec.offset()));
    }
    lostDone.forEach((tp, offset) -> awaitingHandback.put(tp, new HandledBeforeRevocation(lostIn.get(tp), offset)));
    commit(done);
    if (rebalancedMidBatch) {
      resumeAfter(done);
      // Taken and handed straight back: what was left unstarted is this member's again.
      leftToNewOwner.retainAll(kept);
      rewind(records, done, leftToNewOwner);
    }
    handledAhead.removeIf(p -> {
      OffsetAndMetadata committed = done.get(p.partition());
      return committed != null && p.offset() < committed.offset();
    });
    if (failed != null || !running) {
      rewind(records, done, kept);
    }
    if (failed != null) {
      backOff("retriable failure at " + failed.topic() + "-" + failed.partition() + "@" + failed.offset());
    } else {
      attempt = 0;
    }
  }

  /**
   * Waits for the batch in hand, handled on the handling thread, and keeps polling meanwhile with
   * every partition paused: a poll returns nothing then, but it tells the group the member is alive
   * (max.poll.interval.ms) and serves rebalances. A batch that outlasted the interval (a similar-
   * items job over a large catalog) otherwise got the member expelled, its commit refused and the
   * same records handed out again, forever. Partitions revoked meanwhile are handled to the end
   * but not committed (see {@link #revokedMidBatch}); their new owner handles those records again,
   * as handlers allow.
   */
  private ConsumerRecord<byte[], byte[]> awaitPolling(Future<ConsumerRecord<byte[], byte[]>> batch)
      throws InterruptedException {
    try {
      try {
        return batch.get(KEEP_ALIVE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException quickBatchesEndHere) {
        handlingLong = true;
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
          handlingLong = false;
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

  /** Handles records one by one; returns the record to retry, if any. */
  private ConsumerRecord<byte[], byte[]> processInOrder(ConsumerRecords<byte[], byte[]> records, Outbox outbox,
      Map<TopicPartition, OffsetAndMetadata> done) throws InterruptedException {
    for (TopicPartition tp : records.partitions()) {
      for (ConsumerRecord<byte[], byte[]> rec : records.records(tp)) {
        if (!running) {
          return null;
        }
        if (!stillOwned(tp)) {
          break;
        }
        // A dead letter already written when an earlier round's other output was refused.
        if (!handledAhead.contains(positionOf(rec)) && !process(rec, outbox)) {
          return rec;
        }
        done.put(tp, new OffsetAndMetadata(rec.offset() + 1));
      }
    }
    return null;
  }

  /**
   * Handles records on the worker pool, chaining records of the same key. Commits, per partition,
   * only the prefix of records that all succeeded; the rest are handled again after the backoff.
   */
  private ConsumerRecord<byte[], byte[]> processConcurrently(ConsumerRecords<byte[], byte[]> records, Outbox outbox,
      Map<TopicPartition, OffsetAndMetadata> done, Set<ConsumerRecord<byte[], byte[]>> beyond)
      throws InterruptedException {
    Map<String, CompletableFuture<Boolean>> lastByKey = new HashMap<>();
    Map<ConsumerRecord<byte[], byte[]>, CompletableFuture<Boolean>> results = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> rec : records) {
      String key = rec.key() == null ? "\u0000" + rec.partition() + "@" + rec.offset() : keyOf(rec);
      CompletableFuture<Boolean> previous = lastByKey.getOrDefault(key, CompletableFuture.completedFuture(true));
      boolean handledBefore = handledAhead.contains(
          new RecordPosition(new TopicPartition(rec.topic(), rec.partition()), rec.offset()));
      TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
      CompletableFuture<Boolean> f = previous.handle((ok, err) -> ok != null && ok)
          .thenApplyAsync(previousOk -> running && previousOk && stillOwned(tp)
              && (handledBefore || processUninterruptibly(rec, outbox)), workers);
      lastByKey.put(key, f);
      results.put(rec, f);
    }
    ConsumerRecord<byte[], byte[]> firstFailed = null;
    for (TopicPartition tp : records.partitions()) {
      boolean prefix = true;
      for (ConsumerRecord<byte[], byte[]> rec : records.records(tp)) {
        boolean ok;
        try {
          ok = results.get(rec).get();
        } catch (ExecutionException e) {
          // process() returns false for what a retry can mend; what leaves it (a dead letter the
          // producer refused at once, as one in a fatal state does) kills the loop as it does in
          // order, instead of being retried for ever behind a ready check.
          Throwable cause = e.getCause();
          if (cause instanceof Error fatal) {
            throw fatal;
          }
          throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        }
        if (ok && prefix) {
          done.put(tp, new OffsetAndMetadata(rec.offset() + 1));
        } else if (ok) {
          beyond.add(rec);
        } else if (prefix) {
          prefix = false;
          if (firstFailed == null && running && !leftToNewOwner.contains(tp)) {
            firstFailed = rec;
          }
        }
      }
    }
    return firstFailed;
  }

  /**
   * Whether a record of {@code tp} may still be started: not once a rebalance took the partition
   * (the keep-alive polls serve rebalances while the batch is handled), unless handed straight
   * back. A record already running then runs to its end; only a transactional producer could
   * fence its output.
   */
  private boolean stillOwned(TopicPartition tp) {
    if (!handlingLong || (owned.contains(tp) && !revokedMidBatch.containsKey(tp))) {
      return true;
    }
    leftToNewOwner.add(tp);
    return false;
  }

  private boolean processUninterruptibly(ConsumerRecord<byte[], byte[]> rec, Outbox outbox) {
    try {
      return process(rec, outbox);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Returns false when the record must be retried; poison records are dead-lettered (true). */
  private boolean process(ConsumerRecord<byte[], byte[]> rec, Outbox outbox) throws InterruptedException {
    Context parent = tracing.propagator().extract(Context.root(), rec.headers(), KafkaHeadersCarrier.GETTER);
    String tenant = PipelineHeaders.get(rec.headers(), PipelineHeaders.TENANT);
    Span span = tracing.tracer().spanBuilder(rec.topic() + " process")
        .setParent(parent)
        .setSpanKind(SpanKind.CONSUMER)
        .setAttribute("messaging.system", "kafka")
        .setAttribute("messaging.destination.name", rec.topic())
        .setAttribute("messaging.kafka.destination.partition", (long) rec.partition())
        .setAttribute("messaging.kafka.message.offset", rec.offset())
        .setAttribute("messaging.kafka.message.key", rec.key() == null ? "" : keyOf(rec))
        .setAttribute("tenant", tenant == null ? "" : tenant)
        .startSpan();
    long t0 = System.nanoTime();
    outbox.handling(positionOf(rec));
    try (Scope ignored = span.makeCurrent()) {
      MDC.put("trace_id", span.getSpanContext().getTraceId());
      try {
        handler.handle(rec, outbox);
        double seconds = (System.nanoTime() - t0) / 1e9;
        outbox.onAcknowledged(() -> activity.handled(rec.topic(), seconds));
        return true;
      } catch (InterruptedException e) {
        throw e;
      } catch (RetriableProcessingException e) {
        span.recordException(e);
        span.setStatus(StatusCode.ERROR, "retriable: " + e.getMessage());
        activity.retried(rec.topic());
        log.warn("{}: will retry {}-{}@{}: {}", service, rec.topic(), rec.partition(), rec.offset(), e.getMessage());
        return false;
      } catch (Exception e) {
        if (!(e instanceof PoisonRecordException) && (!running || Thread.currentThread().isInterrupted())) {
          // A stop interrupts what it stops waiting for, and a handler cut off mid-way fails in
          // whatever way its library reports an interrupt: the record is not at fault, and is
          // handled again after the restart instead of dead-lettered.
          span.recordException(e);
          span.setStatus(StatusCode.ERROR, "stopping: " + e.getMessage());
          log.warn("{}: not dead-lettering {}-{}@{} while stopping: {}", service, rec.topic(), rec.partition(),
              rec.offset(), e.toString());
          return false;
        }
        String reason = DeadLetters.reasonOf(e);
        span.recordException(e);
        span.setStatus(StatusCode.ERROR, reason + ": " + e.getMessage());
        span.setAttribute("dlq.reason", reason);
        log.warn("{}: dead-lettering {}-{}@{} ({}): {}", service, rec.topic(), rec.partition(), rec.offset(),
            reason, e.getMessage());
        outbox.sendDeadLetter(deadLetters.topicFor(rec), rec.key(), rec.value(), deadLetters.headersFor(rec, e));
        outbox.onAcknowledged(() -> activity.deadLettered(rec.topic(), reason));
        return true;
      } catch (Error e) {
        // The loop dies of it (exit 4); the record's span must say which record and why.
        span.recordException(e);
        span.setStatus(StatusCode.ERROR, e.toString());
        throw e;
      }
    } finally {
      outbox.handled();
      MDC.remove("trace_id");
      span.end();
    }
  }

  private static String keyOf(ConsumerRecord<byte[], byte[]> rec) {
    return new String(rec.key(), StandardCharsets.UTF_8);
  }

  /**
   * How a batch's sends ended: whether all were acknowledged; the input records with a send that
   * was not; those whose every send was their dead letter, acknowledged; and whether a send made
   * for no known record failed.
   */
  private record Acks(boolean all, Set<RecordPosition> failed, Set<RecordPosition> onlyDeadLetters,
      boolean unattributedFailed) {}

  private Acks awaitAcks(List<Outbox.Sent> sends) throws InterruptedException {
    long deadline = System.nanoTime() + SEND_ACK_TIMEOUT.toNanos();
    Set<RecordPosition> failed = new HashSet<>();
    Set<RecordPosition> withOtherOutput = new HashSet<>();
    Set<RecordPosition> deadLettered = new HashSet<>();
    boolean unattributedFailed = false;
    Throwable refused = null;
    String firstFailure = null;
    for (Outbox.Sent sent : sends) {
      if (sent.origin() != null) {
        (sent.deadLetter() ? deadLettered : withOtherOutput).add(sent.origin());
      }
      try {
        // Every send is waited for (none longer than the batch's limit in all), so each record's
        // outcome is known, not only the first failure's.
        sent.ack().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        continue;
      } catch (ExecutionException e) {
        // Retried like any failed batch, but no retry can succeed: the partitions stay where they
        // are, so this must show as not ready rather than as an ordinary back-off.
        if (refused == null && !(e.getCause() instanceof RetriableException)) {
          refused = e.getCause();
        }
        if (firstFailure == null) {
          firstFailure = "produced record not acknowledged: " + e.getMessage();
        }
      } catch (TimeoutException e) {
        if (firstFailure == null) {
          firstFailure = "produced record not acknowledged within " + SEND_ACK_TIMEOUT;
        }
      }
      if (sent.origin() == null) {
        unattributedFailed = true;
      } else {
        failed.add(sent.origin());
      }
    }
    if (firstFailure == null) {
      refusedSend = null;
      return new Acks(true, Set.of(), Set.of(), false);
    }
    log.warn("{}: {} ({} input records affected)", service, firstFailure, failed.size());
    refusedSend = refused;
    deadLettered.removeAll(withOtherOutput);
    deadLettered.removeAll(failed);
    return new Acks(false, failed, deadLettered, unattributedFailed);
  }

  private void commit(Map<TopicPartition, OffsetAndMetadata> done) {
    if (done.isEmpty()) {
      return;
    }
    try {
      consumer.commitSync(done);
    } catch (KafkaException e) {
      // Lost the partitions in a rebalance: the new owner handles these records again.
      log.warn("{}: commit failed, records will be redelivered: {}", service, e.getMessage());
    }
  }

  /**
   * A partition revoked and handed straight back mid-batch (an eager rebalance revokes them all)
   * restarts at the offset committed before the batch: it resumes after what was just committed,
   * instead of handling the whole batch, a similar-items job of minutes, again.
   */
  private void resumeAfter(Map<TopicPartition, OffsetAndMetadata> done) {
    // Paused since it came back, a partition cannot be past its batch's end: the seek needs no
    // position(), which blocks on the coordinator for a partition just assigned and, when that
    // times out (a broker restarting during the rebalance), killed the poll thread.
    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : done.entrySet()) {
      if (consumer.assignment().contains(e.getKey())) {
        consumer.seek(e.getKey(), e.getValue().offset());
      }
    }
  }

  /**
   * After some of a batch's output was not acknowledged: per partition, the handled records before
   * the first whose output failed are committed, and the rest is handled again (handlers are
   * idempotent), in order, so a key's later output never lands before its earlier one. A record
   * whose only output was its dead letter, acknowledged, is not handled again: each retry of the
   * batch wrote another copy of it. Sends made off the handling threads cannot be told apart: if
   * one of them failed, nothing is committed.
   */
  private void settlePartly(ConsumerRecords<byte[], byte[]> records, Map<TopicPartition, OffsetAndMetadata> done,
      Set<ConsumerRecord<byte[], byte[]>> beyond, Set<TopicPartition> kept, Acks acks, Outbox outbox) {
    Map<TopicPartition, OffsetAndMetadata> committable = new HashMap<>();
    Set<RecordPosition> settled = new HashSet<>();
    if (!acks.unattributedFailed()) {
      Set<RecordPosition> handledBeyond = new HashSet<>();
      beyond.forEach(rec -> handledBeyond.add(positionOf(rec)));
      for (TopicPartition tp : kept) {
        OffsetAndMetadata handledUntil = done.get(tp);
        boolean prefix = true;
        for (ConsumerRecord<byte[], byte[]> rec : records.records(tp)) {
          RecordPosition p = positionOf(rec);
          boolean handled = handledUntil != null && rec.offset() < handledUntil.offset() || handledBeyond.contains(p);
          if (!handled) {
            prefix = false;
            continue;
          }
          if (prefix && !acks.failed().contains(p)) {
            committable.put(tp, new OffsetAndMetadata(rec.offset() + 1));
            settled.add(p);
            continue;
          }
          prefix = false;
          if (acks.onlyDeadLetters().contains(p)) {
            handledAhead.add(p);
            settled.add(p);
          }
        }
      }
    }
    outbox.acknowledged(p -> p != null && settled.contains(p));
    commit(committable);
    rewind(records, committable, kept);
  }

  private static RecordPosition positionOf(ConsumerRecord<byte[], byte[]> rec) {
    return new RecordPosition(new TopicPartition(rec.topic(), rec.partition()), rec.offset());
  }

  /** Seeks {@code partitions} of the batch still assigned back to their first record not committed. */
  private void rewind(ConsumerRecords<byte[], byte[]> records, Map<TopicPartition, OffsetAndMetadata> done,
      Set<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      if (!consumer.assignment().contains(tp) || records.records(tp).isEmpty()) {
        continue;
      }
      OffsetAndMetadata d = done.get(tp);
      consumer.seek(tp, d != null ? d.offset() : records.records(tp).get(0).offset());
    }
  }

  private void backOff(String why) {
    long delay = jittered(Math.min(backoffMax.toMillis(), backoff.toMillis() << Math.min(attempt, 20)),
        java.util.concurrent.ThreadLocalRandom.current().nextDouble());
    attempt++;
    consumer.pause(consumer.assignment());
    paused = true;
    resumeAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
    log.info("{}: {}; paused {} partitions for {} ms (attempt {})", service, why, consumer.assignment().size(), delay, attempt);
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

  /** When the lag is next reported; the poll thread's alone. */
  private long nextLagNanos;

  private void reportLagIfDue() {
    // Not once stopping: a report after close's forgetLag would count a gone loop for good.
    if (running && System.nanoTime() >= nextLagNanos) {
      activity.lag(this, currentLag());
      nextLagNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    }
  }

  private long currentLag() {
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


  private final class PauseNewPartitionsWhileBackingOff implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      Set<TopicPartition> keep = new HashSet<>(owned);
      keep.removeAll(partitions);
      owned = Set.copyOf(keep);
      int generation = consumer.groupMetadata().generationId();
      partitions.forEach(tp -> revokedSinceAssignment.put(tp, generation));
      if (handlingLong) {
        rebalancedMidBatch = true;
        // The first taking counts: given back later than straight back, another member had it.
        partitions.forEach(tp -> revokedMidBatch.putIfAbsent(tp, generation));
      }
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      // Given straight back by the rebalance that took it (an eager rebalance revokes everything):
      // taken in generation g and assigned in g + 1, nobody else owned it meanwhile, so the
      // batch's offsets are still this member's to commit.
      int generation = consumer.groupMetadata().generationId();
      partitions.forEach(tp -> revokedMidBatch.remove(tp, generation - 1));
      // Offsets are committed synchronously after every batch. What was handled beyond a failure
      // is the next owner's to handle again, as it never saw it; given straight back, it is not.
      handledAhead.removeIf(p -> {
        Integer taken = revokedSinceAssignment.get(p.partition());
        return taken != null && !(partitions.contains(p.partition()) && taken == generation - 1);
      });
      revokedSinceAssignment.clear();
      // Given back only after the batch that handled them ended: commit what it handled there.
      Map<TopicPartition, OffsetAndMetadata> handedBack = new HashMap<>();
      for (TopicPartition tp : partitions) {
        HandledBeforeRevocation h = awaitingHandback.get(tp);
        if (h != null && h.generation() == generation - 1) {
          handedBack.put(tp, h.offset());
        }
      }
      awaitingHandback.clear();
      if (!handedBack.isEmpty()) {
        commit(handedBack);
        handedBack.forEach(consumer::seek);
        log.info("{}: {} handed back after their batch ended; resuming after what it handled", service,
            handedBack.keySet());
      }
      if (paused || handlingLong) {
        consumer.pause(partitions);
      }
      int total = 0;
      for (String topic : topics) {
        List<PartitionInfo> info = consumer.partitionsFor(topic);
        total += info == null ? 0 : info.size();
      }
      partitionsOfTopics = total;
      owned = Set.copyOf(consumer.assignment());
    }
  }

  /** Whether the group has assigned this member partitions at least once since it started. */
  public boolean assignedOnce() {
    return partitionsOfTopics > 0;
  }

  /** Partitions this member owns now, of how many its topics have (0 before the first assignment). */
  public String ownership() {
    return owned.size() + " of " + partitionsOfTopics;
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
    int total = partitionsOfTopics;
    return total > 0 && owned.size() < total;
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
    long started = batchStartedNanos;
    long batchNanos = started == 0 ? 0 : System.nanoTime() - started;
    if (batchNanos > maxBatchTime.toNanos()) {
      return CheckResult.failed("one batch handled for " + TimeUnit.NANOSECONDS.toSeconds(batchNanos)
          + " s, more than KAFKA_MAX_BATCH_TIME (" + maxBatchTime + "): a handler may be stuck");
    }
    Throwable refused = refusedSend;
    if (refused != null) {
      return CheckResult.failed("the broker refuses a record this service produced, and retrying cannot help, so "
          + "its partitions cannot advance: " + refused);
    }
    return paused ? new CheckResult(true, "backing off after a retriable failure") : CheckResult.OK;
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

  /** Offsets handled in a batch of a partition revoked in {@code generation} while it ran. */
  private record HandledBeforeRevocation(int generation, OffsetAndMetadata offset) {}
}
