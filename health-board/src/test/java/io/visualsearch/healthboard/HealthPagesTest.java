package io.visualsearch.healthboard;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.config.Config;
import io.visualsearch.proto.events.Heartbeat;
import io.visualsearch.runtime.ServiceHost;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The page and its JSON as a service mounts them, with the reader they are wired to. */
class HealthPagesTest {

  static final Duration WAIT = Duration.ofSeconds(20);
  final ObjectMapper mapper = new ObjectMapper();
  final Config config = HealthSettings.definition().parse(Map.of());
  final ServiceHost host = new ServiceHost("search-api");

  /** A broker that denies this client service.health: every read fails before it starts. */
  static final class DeniedConsumer extends MockConsumer<byte[], byte[]> {
    DeniedConsumer() {
      super("latest");
    }

    @Override
    public synchronized List<PartitionInfo> partitionsFor(String topic, Duration timeout) {
      throw new TopicAuthorizationException(Set.of(topic));
    }
  }

  @AfterEach
  void stop() {
    host.close();
  }

  @Test
  void aReaderThatCannotReadIsSaidOnThePageAndInTheJsonNotShownAsAnEmptyFleet() throws Exception {
    HealthPages pages = HealthPages.wire(config, host, DeniedConsumer::new);
    host.start();
    await().atMost(WAIT).until(() -> pages.html().contains("retrying after"));
    String html = pages.html();
    assertTrue(html.contains("<p id=\"reader\" class=\"down\" data-reading=\"false\"><strong>Not reading service.health"
        + "</strong>: retrying after org.apache.kafka.common.errors.TopicAuthorizationException"), html);
    assertTrue(html.contains("last heartbeat read never"), html);
    JsonNode json = mapper.readTree(pages.json());
    assertTrue(json.get("instances").isEmpty());
    JsonNode reader = json.get("reader");
    assertFalse(reader.get("reading").asBoolean(), json.toString());
    assertTrue(reader.get("detail").asText().contains("Not authorized to access topics: [service.health]"), json.toString());
    assertEquals(0, reader.get("last_read_ms").asLong());
  }

  @Test
  void aReaderThatReadsSaysWhenItLastReadAHeartbeat() throws Exception {
    TopicPartition p0 = new TopicPartition("service.health", 0);
    HeartbeatReaderTest.HistoryConsumer c = new HeartbeatReaderTest.HistoryConsumer(1);
    c.firstOfLastHour.put(p0, 0L);
    long sent = System.currentTimeMillis();
    Heartbeat hb = Heartbeat.newBuilder().setService("image-indexer").setInstance("a").setTimestampMs(sent)
        .setReady(true).setIntervalMs(5_000).build();
    c.schedulePollTask(() -> c.addRecord(new ConsumerRecord<>("service.health", 0, 0,
        "image-indexer/a".getBytes(StandardCharsets.UTF_8), hb.toByteArray())));
    HealthPages pages = HealthPages.wire(config, host, () -> c);
    host.start();
    await().atMost(WAIT).until(() -> mapper.readTree(pages.json()).get("instances").size() == 1);
    JsonNode reader = mapper.readTree(pages.json()).get("reader");
    assertTrue(reader.get("reading").asBoolean(), reader.toString());
    assertEquals("reading 1 partitions", reader.get("detail").asText());
    assertTrue(reader.get("last_read_ms").asLong() >= sent, reader.toString());
    String html = pages.html();
    assertTrue(html.contains("<p id=\"reader\" class=\"ok\" data-reading=\"true\">service.health: reading 1 partitions"
        + " · last heartbeat read "), html);
    assertFalse(html.contains("Not reading"), html);
  }
}
