package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.proto.events.IndexPublished;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** What index.published last told consumers, per tenant, as the builder reads it at start. */
class AnnouncedVersionsTest {

  static final String TOPIC = "index.published";

  @Test
  void theLatestAnnouncementCountsNotTheHighestNamed() {
    // A builder whose clock ran an hour ahead announced "…T11…"; the next one, with a correct clock,
    // published and announced "…T10…05" after it, then a third version "…T10…09" was published
    // and its announcement never acknowledged.
    String ahead = "20260101T110000Z-aaaaaaaaa";
    String next = "20260101T100005Z-bbbbbbbbb";
    String unannounced = "20260101T100009Z-ccccccccc";
    AnnouncedVersions announced = read(List.of(ahead, next));
    assertTrue(announced.covers("acme", next));
    assertFalse(announced.covers("acme", ahead), "no longer what consumers were last told");
    assertFalse(announced.covers("acme", unannounced), "sorts below the clock-ahead name, yet was never announced");
    announced.announcing("acme", unannounced);
    assertTrue(announced.covers("acme", unannounced));
    assertFalse(announced.covers("other", next), "a tenant never announced");
  }

  static AnnouncedVersions read(List<String> versions) {
    MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    TopicPartition tp = new TopicPartition(TOPIC, 0);
    consumer.updatePartitions(TOPIC, List.of(new PartitionInfo(TOPIC, 0, Node.noNode(), new Node[0], new Node[0])));
    consumer.updateBeginningOffsets(Map.of(tp, 0L));
    consumer.updateEndOffsets(Map.of(tp, (long) versions.size()));
    consumer.schedulePollTask(() -> {
      for (int i = 0; i < versions.size(); i++) {
        consumer.addRecord(new ConsumerRecord<>(TOPIC, 0, i, "acme".getBytes(StandardCharsets.UTF_8),
            IndexPublished.newBuilder().setTenant("acme").setIndexVersion(versions.get(i)).build().toByteArray()));
      }
    });
    AnnouncedVersions announced = new AnnouncedVersions(() -> consumer, TOPIC, Duration.ofSeconds(10));
    announced.start();
    return announced;
  }
}
