package io.visualsearch.indexbuilder;

import com.google.protobuf.InvalidProtocolBufferException;
import io.visualsearch.pipeline.TopicReplay;
import io.visualsearch.proto.events.IndexPublished;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InterruptException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The version each tenant's latest {@code index.published} record names, read once at start-up
 * (the topic is compacted on the tenant: about a record a tenant). A builder that stopped between
 * flipping CURRENT and the acknowledgement of its announcement finds, at its next start, a
 * published version that covers every change and builds nothing; this tells it whether that
 * version was ever announced, so it announces it then instead of at the next publication, hours
 * later for a quiet catalog.
 *
 * <p>When the topic cannot be read, nothing counts as announced: announcing a version twice costs
 * its consumers a repeated, idempotent job, never announcing it leaves them behind.
 */
final class AnnouncedVersions implements Component {

  private static final Logger log = LoggerFactory.getLogger(AnnouncedVersions.class);

  private final Supplier<Consumer<byte[], byte[]>> consumers;
  private final String topic;
  private final Duration timeout;
  /** Per tenant, the version its latest record names (the topic is keyed by tenant: one partition each). */
  private final Map<String, String> newest = new ConcurrentHashMap<>();

  AnnouncedVersions(Supplier<Consumer<byte[], byte[]>> consumers, String topic, Duration timeout) {
    this.consumers = consumers;
    this.topic = topic;
    this.timeout = timeout;
  }

  @Override
  public String name() {
    return "announced-versions";
  }

  @Override
  public void start() {
    long t0 = System.nanoTime();
    try (Consumer<byte[], byte[]> consumer = consumers.get()) {
      TopicReplay.toEnd(consumer, topic, timeout, this::remember);
      log.info("read {}: {} tenants announced, {} ms", topic, newest.size(), (System.nanoTime() - t0) / 1_000_000);
    } catch (TimeoutException | IllegalStateException | KafkaException e) {
      if (e instanceof InterruptException) {
        Thread.currentThread().interrupt();
      }
      newest.clear();
      log.warn("could not read {} ({}); every version found up to date at start-up is announced again", topic,
          e.getMessage());
    }
  }

  private void remember(ConsumerRecord<byte[], byte[]> rec) {
    if (rec.key() == null) {
      return;
    }
    String tenant = new String(rec.key(), StandardCharsets.UTF_8);
    if (rec.value() == null) {
      newest.remove(tenant);
      return;
    }
    try {
      // The last record read is the latest announcement: records of a tenant are in one partition,
      // in the order written. Not the highest name: names come from builders' clocks, and one a
      // host's clock put ahead would hide a later publication named behind it.
      newest.put(tenant, IndexPublished.parseFrom(rec.value()).getIndexVersion());
    } catch (InvalidProtocolBufferException e) {
      log.warn("{} offset {}/{}: unreadable record of tenant {} skipped", topic, rec.partition(), rec.offset(), tenant);
    }
  }

  /**
   * Whether the tenant's latest announcement names {@code version}, as read at start or announced
   * by this builder since (acknowledged or still being retried). Another version, older or newer
   * by name, means consumers were last told of something CURRENT no longer is.
   */
  boolean covers(String tenant, String version) {
    return version.equals(newest.get(tenant));
  }

  /**
   * This builder announces {@code version}: asked again later (a held build, the periodic check),
   * it is not announced a second time. Its announcer retries it until acknowledged, and a run that
   * stops before that reads the topic again at its next start.
   */
  void announcing(String tenant, String version) {
    newest.put(tenant, version);
  }

  @Override
  public CheckResult check() {
    return CheckResult.OK;
  }

  @Override
  public void close() {
    // The consumer is closed when start() returns.
  }
}
