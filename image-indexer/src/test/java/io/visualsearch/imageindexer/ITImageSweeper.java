package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.config.Config;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.pipeline.KafkaClients;
import io.visualsearch.proto.events.ImageReady;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The sweep on the real broker and S3 server: which images it deletes is decided by what each
 * product's latest images.ready record names and by the store's own times.
 */
@ExtendWith(StackExtension.class)
class ITImageSweeper {

  static final Duration GRACE = Duration.ofSeconds(3);

  ObjectStore store;
  KafkaClients kafka;
  Producer<byte[], byte[]> producer;

  @BeforeEach
  void open(EmbeddedStack stack) {
    Config config = ImageIndexerService.definition().parse(IndexerFixture.env(stack));
    store = ObjectStore.fromConfig(config, false);
    store.start();
    kafka = new KafkaClients(config);
    producer = kafka.producer("it-image-sweeper");
  }

  @AfterEach
  void close() {
    producer.close();
    store.close();
  }

  ImageSweeper sweeper(Duration interval) {
    return new ImageSweeper(store, () -> kafka.consumer("it-image-sweep", "it-image-sweep"), interval, GRACE,
        Duration.ofMinutes(1), Clock.systemUTC(), new IndexerMetrics(new PrometheusRegistry()));
  }

  /** A stored image of random content, as the indexer stores them. */
  String image() {
    byte[] bytes = new byte[64];
    new SecureRandom().nextBytes(bytes);
    String sha = HexFormat.of().formatHex(bytes, 0, 32);
    store.put("images/" + sha, bytes, "image/png");
    return sha;
  }

  void ready(String tenant, String sku, String sha) throws Exception {
    byte[] value = sha == null ? null : ImageReady.newBuilder().setTenant(tenant).setSku(sku).setImageSha256(sha)
        .setObjectKey("images/" + sha).build().toByteArray();
    producer.send(new ProducerRecord<>(Topics.IMAGES_READY.name(), (tenant + "/" + sku).getBytes(StandardCharsets.UTF_8),
        value)).get();
  }

  boolean stored(String sha) {
    return store.exists("images/" + sha);
  }

  @Test
  void imagesNoProductsLatestRecordNamesGoOnceOlderThanTheGraceAndNoOthers() throws Exception {
    String tenant = "it-sweep";
    store.delete(ImageSweeper.LAST_SWEEP_KEY); // a sweep of a service another test started
    String inUse = image();
    String replaced = image();
    String replacement = image();
    String removed = image();
    String sharedByTwo = image();
    String orphanOld = image();
    ready(tenant, "a", inUse);
    ready(tenant, "b", replaced);
    ready(tenant, "b", replacement); // the product's picture changed: its older record still on the topic
    ready(tenant, "c", removed);
    ready(tenant, "c", null); // the product left the feed
    ready(tenant, "d", sharedByTwo);
    ready(tenant, "e", sharedByTwo);
    ready(tenant, "e", null); // one of two products with the picture left
    Thread.sleep(GRACE.plusMillis(500).toMillis());
    String orphanYoung = image(); // no product names it (yet): its product's record may be on the way

    ImageSweeper.Outcome swept = sweeper(Duration.ofHours(1)).sweep();

    assertTrue(swept.due());
    for (String kept : List.of(inUse, replacement, sharedByTwo, orphanYoung)) {
      assertTrue(stored(kept), kept + " kept");
    }
    for (String gone : List.of(replaced, removed, orphanOld)) {
      assertFalse(stored(gone), gone + " deleted");
    }
    assertTrue(swept.deleted() >= 3, swept.toString());
    assertTrue(swept.unreferencedYoung() >= 1, swept.toString());
    assertTrue(store.exists(ImageSweeper.LAST_SWEEP_KEY));

    // Every replica ticks; within an interval of the last sweep's end, none sweeps again.
    String orphanNow = image();
    Thread.sleep(GRACE.plusMillis(500).toMillis());
    assertFalse(sweeper(Duration.ofHours(1)).sweep().due());
    assertTrue(stored(orphanNow));
    assertTrue(sweeper(Duration.ofSeconds(1)).sweep().due());
    assertFalse(stored(orphanNow), "the next sweep due takes it");
    assertFalse(stored(orphanYoung), "once older than the grace, as no product took it up");
    assertTrue(stored(inUse));
  }
}
