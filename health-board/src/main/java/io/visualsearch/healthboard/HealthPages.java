package io.visualsearch.healthboard;

import io.visualsearch.config.Config;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.runtime.ServiceHost;
import java.time.Clock;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The health page as a service mounts it: a {@link HeartbeatReader} added to the host, and the
 * two renderings its HTTP layer answers {@code /ops/health} and {@code /ops/health.json} with.
 */
public final class HealthPages {

  private final HealthBoard board;
  private final HeartbeatReader reader;
  private final HealthPage page;
  private final HealthJson json;

  private HealthPages(HealthBoard board, HeartbeatReader reader, ZipkinLinks links) {
    this.board = board;
    this.reader = reader;
    this.page = new HealthPage(links);
    this.json = new HealthJson(links);
  }

  /** {@code config} must hold {@link HealthSettings#definition()} and the Kafka settings. */
  public static HealthPages wire(Config config, ServiceHost host, String clientId) {
    return wire(config, host, () -> {
      Properties p = KafkaSettings.common(config);
      p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId + "-health-board");
      p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
      return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    });
  }

  static HealthPages wire(Config config, ServiceHost host, Supplier<Consumer<byte[], byte[]>> consumers) {
    HealthBoard board = new HealthBoard(Clock.systemUTC(), config.get(HealthSettings.STALE_AFTER),
        config.get(HealthSettings.FAILING_WINDOW));
    CompletableFuture<Throwable> death = new CompletableFuture<>();
    HeartbeatReader reader = host.add(new HeartbeatReader(consumers, board, death::complete));
    death.thenAccept(error -> host.fail(reader, error));
    return new HealthPages(board, reader, new ZipkinLinks(config.get(HealthSettings.ZIPKIN_UI)));
  }

  /** Answered 200 also while the reader cannot read: the banner says so (see RATIONALE). */
  public String html() {
    return page.render(board.rows(), reader.status(), board.nowMs());
  }

  /** Answered 200 also while the reader cannot read: {@code reader.reading} says so (see RATIONALE). */
  public String json() {
    return json.render(board.rows(), reader.status(), board.nowMs());
  }
}
