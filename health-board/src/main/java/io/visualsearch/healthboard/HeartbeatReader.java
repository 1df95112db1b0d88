package io.visualsearch.healthboard;

import com.google.protobuf.InvalidProtocolBufferException;
import io.visualsearch.proto.events.Heartbeat;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.topics.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code service.health} into a {@link HealthBoard}. Group-less, every partition, starting an
 * hour back: each page-serving instance shows the whole fleet, and a restart refills the
 * sparklines from the topic instead of starting blank.
 */
public final class HeartbeatReader implements Component {

  private static final Logger log = LoggerFactory.getLogger(HeartbeatReader.class);
  private static final Duration HISTORY = Duration.ofHours(1);

  private final Supplier<Consumer<byte[], byte[]>> consumers;
  private final HealthBoard board;
  private volatile Consumer<byte[], byte[]> consumer;
  private volatile Thread thread;
  private volatile boolean running;
  private volatile Throwable died;

  public HeartbeatReader(Supplier<Consumer<byte[], byte[]>> consumers, HealthBoard board) {
    this.consumers = consumers;
    this.board = board;
  }

  @Override
  public String name() {
    return "health-board";
  }

  @Override
  public void start() {
    consumer = consumers.get();
    running = true;
    thread = new Thread(this::run, "health-board-reader");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    try {
      seekToHistory();
      while (running) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          accept(r);
        }
      }
    } catch (WakeupException e) {
      if (running) {
        died = e;
      }
    } catch (RuntimeException | Error e) {
      died = e;
      log.error("health board reader died", e);
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  private void seekToHistory() {
    List<TopicPartition> parts = consumer.partitionsFor(Topics.SERVICE_HEALTH.name()).stream()
        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    consumer.assign(parts);
    Map<TopicPartition, Long> since = new HashMap<>();
    parts.forEach(p -> since.put(p, board.nowMs() - HISTORY.toMillis()));
    Map<TopicPartition, OffsetAndTimestamp> offsets = consumer.offsetsForTimes(since);
    for (TopicPartition p : parts) {
      OffsetAndTimestamp o = offsets.get(p);
      if (o == null) {
        consumer.seekToEnd(List.of(p));
      } else {
        consumer.seek(p, o.offset());
      }
    }
  }

  private void accept(ConsumerRecord<byte[], byte[]> r) {
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
    if (died != null || !t.isAlive()) {
      return CheckResult.failed("reader stopped: " + (died == null ? "exited" : died.toString()));
    }
    return CheckResult.OK;
  }

  @Override
  public void close() {
    running = false;
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
