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
 */
public final class HeartbeatReader implements Component {

  private static final Logger log = LoggerFactory.getLogger(HeartbeatReader.class);
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration RETRY = Duration.ofSeconds(5);
  /** New partitions of service.health are picked up this often. */
  private static final Duration REASSIGN_EVERY = Duration.ofMinutes(1);

  private final Supplier<Consumer<byte[], byte[]>> consumers;
  private final HealthBoard board;
  private final Duration retry;
  private final java.util.function.Consumer<Throwable> onDeath;
  /** Per partition, the offset after the last heartbeat read; only the reader's thread uses it. */
  private final Map<TopicPartition, Long> readUpTo = new HashMap<>();
  private final CountDownLatch stopping = new CountDownLatch(1);
  private volatile Consumer<byte[], byte[]> consumer;
  private volatile Thread thread;
  private volatile Throwable died;
  private volatile String status = "starting";
  private volatile boolean reading;
  private volatile long lastReadMs;
  private Consumer<byte[], byte[]> first;

  public HeartbeatReader(Supplier<Consumer<byte[], byte[]>> consumers, HealthBoard board,
      java.util.function.Consumer<Throwable> onDeath) {
    this(consumers, board, RETRY, onDeath);
  }

  HeartbeatReader(Supplier<Consumer<byte[], byte[]>> consumers, HealthBoard board, Duration retry,
      java.util.function.Consumer<Throwable> onDeath) {
    this.consumers = consumers;
    this.board = board;
    this.retry = retry;
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
        status = "waiting for topic " + HistoryAssignment.TOPIC;
        pause();
        return;
      }
      status = "reading " + assignment.partitions() + " partitions";
      reading = true;
      long reassignAt = System.nanoTime() + REASSIGN_EVERY.toNanos();
      while (running()) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(POLL)) {
          accept(r);
        }
        if (System.nanoTime() >= reassignAt) {
          assignment.addNewPartitions();
          reassignAt = System.nanoTime() + REASSIGN_EVERY.toNanos();
        }
      }
    } catch (WakeupException e) {
      // close() woke the poll: the loop condition ends the reader
    } catch (RuntimeException e) {
      reading = false;
      status = "retrying after " + e;
      log.warn("health board reader failed; retrying in {}", retry, e);
      pause();
    } finally {
      reading = false;
      consumer = null;
    }
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
    Thread t = thread;
    if (t == null) {
      return CheckResult.failed("not started");
    }
    if (died != null || (!t.isAlive() && running())) {
      return CheckResult.failed("reader stopped: " + (died == null ? "exited" : died.toString()));
    }
    return new CheckResult(true, status);
  }

  /** For the page: whether heartbeats are being read, and when one last was. */
  public ReaderStatus status() {
    CheckResult c = check();
    return new ReaderStatus(c.ok() && reading, c.detail(), lastReadMs);
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
}
