package io.visualsearch.healthboard;

import com.google.protobuf.InvalidProtocolBufferException;
import io.visualsearch.proto.events.Heartbeat;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code service.health} into a {@link HealthBoard}. Group-less, every partition, starting an
 * hour back: each page-serving instance shows the whole fleet, and a restart refills the
 * sparklines from the topic instead of starting blank.
 *
 * <p>A failing read is retried with a fresh consumer rather than reported as not ready: the page
 * is an operator's aid, and a broken page must not take its host (search-api) out of the load
 * balancer. While the reader cannot read, the page and its JSON say so above the rows
 * ({@link #status}), with when a heartbeat was last read; the rows read before turn stale.
 * An Error (out of memory) ends the reader for good: it is reported to {@code onDeath}, which stops
 * the service so it is restarted; otherwise its host stayed unready for ever while /healthz said ok.
 *
 * <p>A group-less consumer does not notice brokers going away once it reads: {@code poll} just
 * returns nothing, and the topic's partitions are answered from cached metadata. So while reading,
 * the reader asks the brokers for the end offsets of its partitions every 10 s (every second while
 * they do not answer), waiting at most 2 s; while they do not answer, it says it is not reading
 * ("broker unreachable: ..."), and keeps polling with the same consumer, which reconnects by
 * itself. Heartbeats merely not arriving do not count: every service may be stopped on purpose.
 */
public final class HeartbeatReader implements Component {

  private static final Logger log = LoggerFactory.getLogger(HeartbeatReader.class);
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration RETRY = Duration.ofSeconds(5);
  /** New partitions of service.health are picked up this often. */
  private static final Duration REASSIGN_EVERY = Duration.ofMinutes(1);
  /**
   * The brokers are asked whether they answer this often: with the 2 s timeout, an outage shows
   * within about 12 s, before the rows turn stale (3 heartbeat intervals of 5 s by default).
   */
  private static final Duration PROBE_EVERY = Duration.ofSeconds(10);
  /** While the brokers do not answer, they are asked again this often, so a recovery shows soon. */
  private static final Duration PROBE_AGAIN = Duration.ofSeconds(1);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

  private final Supplier<Consumer<byte[], byte[]>> consumers;
  private final HealthBoard board;
  private final Duration retry;
  private final Duration probeEvery;
  private final java.util.function.Consumer<Throwable> onDeath;
  /** Per partition, the offset after the last heartbeat read; only the reader's thread uses it. */
  private final Map<TopicPartition, Long> readUpTo = new HashMap<>();
  private final CountDownLatch stopping = new CountDownLatch(1);
  private volatile Consumer<byte[], byte[]> consumer;
  private volatile Thread thread;
  private volatile Throwable died;
  /** Published as one value, so the page never shows "reading" with a failure's detail or the reverse. */
  private volatile State state = new State(false, "starting");
  private volatile long lastReadMs;
  private Consumer<byte[], byte[]> first;

  public HeartbeatReader(Supplier<Consumer<byte[], byte[]>> consumers, HealthBoard board,
      java.util.function.Consumer<Throwable> onDeath) {
    this(consumers, board, RETRY, onDeath);
  }

  HeartbeatReader(Supplier<Consumer<byte[], byte[]>> consumers, HealthBoard board, Duration retry,
      java.util.function.Consumer<Throwable> onDeath) {
    this(consumers, board, retry, PROBE_EVERY, onDeath);
  }

  HeartbeatReader(Supplier<Consumer<byte[], byte[]>> consumers, HealthBoard board, Duration retry,
      Duration probeEvery, java.util.function.Consumer<Throwable> onDeath) {
    this.consumers = consumers;
    this.board = board;
    this.retry = retry;
    this.probeEvery = probeEvery;
    this.onDeath = onDeath;
  }

  @Override
  public String name() {
    return "health-board";
  }

  @Override
  public void start() {
    // Built here so a misconfigured client fails the service's start instead of retrying forever.
    first = consumers.get();
    thread = new Thread(this::run, "health-board-reader");
    thread.setDaemon(true);
    thread.start();
  }

  private boolean running() {
    return stopping.getCount() > 0;
  }

  private void run() {
    try {
      while (running()) {
        readUntilFailure();
      }
    } catch (Error e) {
      died = e;
      log.error("health board reader died", e);
      onDeath.accept(e);
    }
  }

  private void readUntilFailure() {
    try (Consumer<byte[], byte[]> c = takeConsumer()) {
      consumer = c;
      if (!running()) {
        return; // close() came before this consumer existed and could not wake it
      }
      HistoryAssignment assignment = new HistoryAssignment(c, board.nowMs(), readUpTo);
      if (assignment.partitions() == 0) {
        state = new State(false, "waiting for topic " + HistoryAssignment.TOPIC);
        pause();
        return;
      }
      state = new State(true, "reading " + assignment.partitions() + " partitions");
      long reassignAt = System.nanoTime() + REASSIGN_EVERY.toNanos();
      long probeAt = System.nanoTime() + probeEvery.toNanos();
      while (running()) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(POLL)) {
          accept(r);
        }
        if (System.nanoTime() >= reassignAt) {
          assignment.addNewPartitions();
          reassignAt = System.nanoTime() + REASSIGN_EVERY.toNanos();
        }
        if (System.nanoTime() >= probeAt) {
          boolean answered = probe(c, assignment);
          probeAt = System.nanoTime() + (answered ? probeEvery : min(probeEvery, PROBE_AGAIN)).toNanos();
        }
      }
    } catch (WakeupException e) {
      // close() woke the poll: the loop condition ends the reader
    } catch (RuntimeException e) {
      state = new State(false, "retrying after " + e);
      log.warn("health board reader failed; retrying in {}", retry, e);
      pause();
    } finally {
      state = new State(false, state.detail());
      consumer = null;
    }
  }

  /**
   * Whether the brokers answer: an empty poll and cached metadata look the same with every broker
   * down as with every service stopped. Asks for the end offsets of the assigned partitions, which
   * needs their leaders; a timeout is an outage, shown until they answer again. Other failures
   * take the usual way: a fresh consumer.
   */
  private boolean probe(Consumer<byte[], byte[]> c, HistoryAssignment assignment) {
    try {
      c.endOffsets(c.assignment(), PROBE_TIMEOUT);
    } catch (TimeoutException e) {
      if (state.reading()) {
        log.warn("health board reader: brokers do not answer; polling on until they do: {}", e.toString());
      }
      state = new State(false, "broker unreachable: " + e);
      return false;
    }
    if (!state.reading()) {
      log.info("health board reader: brokers answer again");
    }
    state = new State(true, "reading " + assignment.partitions() + " partitions");
    return true;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private Consumer<byte[], byte[]> takeConsumer() {
    Consumer<byte[], byte[]> c = first != null ? first : consumers.get();
    first = null;
    return c;
  }

  private void pause() {
    try {
      stopping.await(retry.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopping.countDown();
    }
  }

  private void accept(ConsumerRecord<byte[], byte[]> r) {
    readUpTo.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
    lastReadMs = board.nowMs();
    if (r.value() == null) {
      return;
    }
    try {
      board.accept(Heartbeat.parseFrom(r.value()));
    } catch (InvalidProtocolBufferException e) {
      // One unreadable heartbeat must not blank the page; the next one from that instance will do.
      log.warn("unreadable heartbeat at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
    }
  }

  @Override
  public CheckResult check() {
    return check(state);
  }

  private CheckResult check(State s) {
    Thread t = thread;
    if (t == null) {
      return CheckResult.failed("not started");
    }
    if (died != null || (!t.isAlive() && running())) {
      return CheckResult.failed("reader stopped: " + (died == null ? "exited" : died.toString()));
    }
    return new CheckResult(true, s.detail());
  }

  /** For the page: whether heartbeats are being read, and when one last was. */
  public ReaderStatus status() {
    State s = state;
    CheckResult c = check(s);
    return new ReaderStatus(c.ok() && s.reading(), c.detail(), lastReadMs);
  }

  @Override
  public void close() {
    stopping.countDown();
    Consumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    Thread t = thread;
    if (t != null) {
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** What the reader is doing: whether it reads, in its own words. */
  private record State(boolean reading, String detail) {}
}
