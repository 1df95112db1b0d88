package io.visualsearch.imageindexer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.proto.events.ImageReady;
import io.visualsearch.proto.events.ProductUpsert;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.awt.Color;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The image-indexer on the real broker and S3 server, fetching from a local image host: what is
 * downloaded, stored and emitted as products come, change and go, and what happens to hostile images.
 */
@ExtendWith(StackExtension.class)
class ITImageIndexer {

  ImageHost images;
  TopicRecorder recorder;
  IndexerFixture indexer;

  @BeforeEach
  void start(EmbeddedStack stack) throws Exception {
    images = new ImageHost();
    recorder = new TopicRecorder(stack, List.of("images.ready", "catalog.products.dlq"));
    indexer = new IndexerFixture(stack);
  }

  @AfterEach
  void stop() throws Exception {
    if (indexer != null) {
      indexer.close();
    }
    recorder.close();
    images.close();
  }

  List<ConsumerRecord<byte[], byte[]>> ready(String tenant, String sku) {
    return recorder.records("images.ready", tenant + "/", tenant + "/" + sku);
  }

  ImageReady last(String tenant, String sku) throws Exception {
    List<ConsumerRecord<byte[], byte[]>> r = ready(tenant, sku);
    return ImageReady.parseFrom(r.get(r.size() - 1).value());
  }

  void awaitReady(String tenant, String sku, int count) {
    await().atMost(Duration.ofSeconds(60)).until(() -> ready(tenant, sku).size() >= count);
    assertEquals(count, ready(tenant, sku).size(), "one images.ready record per product record");
  }

  @Test
  void downloadsOnlyWhenTheLinkOrTheServersCopyChanged(EmbeddedStack stack) throws Exception {
    String t = "it-img";
    byte[] red = TestImages.png(Color.RED);
    images.image("/a.png", red, "image/png", "\"a1\"");
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    indexer.send(t, "p-1", IndexerFixture.product(t, "p-1", images.url("/a.png"), 10_000_000).toByteArray(),
        "00-" + traceId + "-00f067aa0ba902b7-01");

    awaitReady(t, "p-1", 1);
    ConsumerRecord<byte[], byte[]> first = ready(t, "p-1").get(0);
    ImageReady r1 = ImageReady.parseFrom(first.value());
    assertEquals(t, r1.getTenant());
    assertEquals("p-1", r1.getSku());
    assertEquals("images/" + r1.getImageSha256(), r1.getObjectKey());
    assertEquals(images.url("/a.png"), r1.getSourceUrl());
    assertEquals(64, r1.getWidth());
    assertEquals(48, r1.getHeight());
    byte[] stored = indexer.store.get(r1.getObjectKey()).orElseThrow().bytes();
    assertEquals(r1.getImageSha256(), TestImages.sha256(stored), "stored under its own content address");
    assertEquals(t, PipelineHeaders.get(first.headers(), PipelineHeaders.TENANT));
    assertTrue(PipelineHeaders.get(first.headers(), "traceparent").contains(traceId), "the product's trace goes on");
    assertEquals(1, images.downloads("/a.png"));
    assertTrue(indexer.store.exists(ImageStateStore.key(t, "p-1")));

    // Price change, same link: a conditional GET answered 304, the stored image re-announced with the new product.
    ProductUpsert cheaper = IndexerFixture.product(t, "p-1", images.url("/a.png"), 8_000_000);
    indexer.send(cheaper);
    awaitReady(t, "p-1", 2);
    ImageReady r2 = last(t, "p-1");
    assertEquals(r1.getImageSha256(), r2.getImageSha256());
    assertEquals(cheaper.getContentHash(), r2.getProductContentHash());
    assertNotEquals(r1.getProductContentHash(), r2.getProductContentHash());
    assertEquals(1, images.downloads("/a.png"), "no second download for a price change");
    assertEquals(1, images.notModified("/a.png"));

    // The host replaced the picture behind the same link (new ETag): the conditional GET brings it.
    byte[] green = TestImages.png(Color.GREEN);
    images.image("/a.png", green, "image/png", "\"a2\"");
    indexer.send(IndexerFixture.product(t, "p-1", images.url("/a.png"), 7_000_000));
    awaitReady(t, "p-1", 3);
    String greenSha = last(t, "p-1").getImageSha256();
    assertNotEquals(r1.getImageSha256(), greenSha);
    assertEquals(2, images.downloads("/a.png"));

    // A new image link: exactly one download of the new image, nothing from the old one.
    images.image("/b.jpg", TestImages.jpeg(Color.BLUE), "image/jpeg", "\"b1\"");
    indexer.send(IndexerFixture.product(t, "p-1", images.url("/b.jpg"), 7_000_000));
    awaitReady(t, "p-1", 4);
    ImageReady r4 = last(t, "p-1");
    assertEquals(images.url("/b.jpg"), r4.getSourceUrl());
    assertNotEquals(greenSha, r4.getImageSha256());
    assertEquals(1, images.downloads("/b.jpg"));
    assertEquals(2, images.hits("/a.png") - images.notModified("/a.png"));
    assertTrue(indexer.store.exists(r4.getObjectKey()));

    // The product leaves the catalog: a tombstone downstream and its state forgotten.
    indexer.send(t, "p-1", null, null);
    awaitReady(t, "p-1", 5);
    assertNull(ready(t, "p-1").get(4).value());
    assertEquals(t, PipelineHeaders.get(ready(t, "p-1").get(4).headers(), PipelineHeaders.TENANT));
    assertFalse(indexer.store.exists(ImageStateStore.key(t, "p-1")));
    assertTrue(indexer.store.exists(r4.getObjectKey()), "content-addressed images are shared, not deleted");

    assertTrue(indexer.metrics().contains("image_indexer_downloads_total 3.0"), "downloads counted on /metrics");
    assertEquals(List.of(), recorder.records("catalog.products.dlq", t + "/"));
    assertSpansInZipkin(stack, traceId, r1.getImageSha256());
  }

  @Test
  void aHostWithoutValidatorsIsNotAskedAgainAndTheSameImageIsStoredOnce() throws Exception {
    String t = "it-img-plain";
    byte[] shared = TestImages.png(Color.ORANGE);
    images.image("/plain.png", shared, "image/png", null);
    images.image("/copy.png", shared, "image/png", null);
    indexer.send(IndexerFixture.product(t, "s-1", images.url("/plain.png"), 1_000_000));
    indexer.send(IndexerFixture.product(t, "s-2", images.url("/copy.png"), 1_000_000));
    awaitReady(t, "s-1", 1);
    awaitReady(t, "s-2", 1);
    assertEquals(last(t, "s-1").getImageSha256(), last(t, "s-2").getImageSha256(), "one content address");

    indexer.send(IndexerFixture.product(t, "s-1", images.url("/plain.png"), 2_000_000));
    awaitReady(t, "s-1", 2);
    assertEquals(last(t, "s-2").getImageSha256(), last(t, "s-1").getImageSha256());
    assertEquals(1, images.hits("/plain.png"), "without ETag or Last-Modified the host is not asked again");
  }

  @Test
  void aStoredImageThatVanishedIsFetchedAgain() throws Exception {
    String t = "it-img-lost";
    images.image("/lost.png", TestImages.png(Color.MAGENTA), "image/png", "\"l1\"");
    indexer.send(IndexerFixture.product(t, "l-1", images.url("/lost.png"), 1_000_000));
    awaitReady(t, "l-1", 1);
    String key = last(t, "l-1").getObjectKey();
    indexer.store.delete(key);

    indexer.send(IndexerFixture.product(t, "l-1", images.url("/lost.png"), 2_000_000));
    awaitReady(t, "l-1", 2);
    assertEquals(2, images.downloads("/lost.png"), "a 304 would have confirmed an image we no longer have");
    assertTrue(indexer.store.exists(key));
  }

  @Test
  void hostileImagesGoToTheDeadLetterTopicWithAReasonAndGoodProductsStillFlow() throws Exception {
    String t = "it-img-hostile";
    byte[] png = TestImages.png(Color.CYAN);
    images.image("/html.jpg", TestImages.html(), "image/jpeg", null);
    images.image("/truncated.png", TestImages.truncated(png), "image/png", null);
    images.image("/bomb.png", TestImages.pngDeclaring(50_000, 50_000), "image/png", null);
    images.image("/empty.png", new byte[0], "image/png", null);
    images.redirect("/to-private.png", "http://10.0.0.1/x.png");
    images.redirect("/to-metadata.png", "http://169.254.169.254/latest/meta-data/");
    images.redirect("/loop-a.png", images.url("/loop-b.png"));
    images.redirect("/loop-b.png", images.url("/loop-a.png"));
    images.status("/down.png", 503);
    images.trickle("/trickle.png");
    images.image("/good.png", png, "image/png", "\"g\"");

    Map<String, String> expected = new HashMap<>();
    Map<String, String> links = new HashMap<>();
    links.put("missing", images.url("/nothing-here.png"));
    expected.put("missing", "image-fetch-not-found");
    links.put("html", images.url("/html.jpg"));
    expected.put("html", "image-rejected-not-an-image");
    links.put("truncated", images.url("/truncated.png"));
    expected.put("truncated", "image-rejected-truncated");
    links.put("bomb", images.url("/bomb.png"));
    expected.put("bomb", "image-rejected-too-many-pixels");
    links.put("empty", images.url("/empty.png"));
    expected.put("empty", "image-fetch-io-error");
    links.put("private", images.url("/to-private.png"));
    expected.put("private", "image-fetch-blocked-address");
    links.put("metadata", images.url("/to-metadata.png"));
    expected.put("metadata", "image-fetch-blocked-address");
    links.put("other-loopback", "http://127.0.0.2:" + images.port() + "/good.png");
    expected.put("other-loopback", "image-fetch-blocked-address");
    links.put("loop", images.url("/loop-a.png"));
    expected.put("loop", "image-fetch-too-many-redirects");
    links.put("scheme", "file:///etc/passwd");
    expected.put("scheme", "image-fetch-unsupported-scheme");
    links.put("down", images.url("/down.png"));
    expected.put("down", "image-host-unavailable");
    links.put("trickle", images.url("/trickle.png"));
    expected.put("trickle", "image-fetch-timeout");
    links.put("no-link", "");
    expected.put("no-link", "missing-image-link");
    for (var e : links.entrySet()) {
      indexer.send(IndexerFixture.product(t, e.getKey(), e.getValue(), 1_000_000));
    }
    indexer.send(t, "garbage", new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, null);
    expected.put("garbage", "malformed-payload");
    indexer.send(IndexerFixture.product(t, "good", images.url("/good.png"), 1_000_000));

    Supplier<List<ConsumerRecord<byte[], byte[]>>> dlq = () -> recorder.records("catalog.products.dlq", t + "/");
    await().atMost(Duration.ofSeconds(90)).until(() -> dlq.get().stream().map(r -> new String(r.key(),
        java.nio.charset.StandardCharsets.UTF_8)).distinct().count() == expected.size() && !ready(t, "good").isEmpty());
    assertEquals(last(t, "good").getImageSha256(), TestImages.sha256(
        indexer.store.get(last(t, "good").getObjectKey()).orElseThrow().bytes()));
    // At least once: a record after a retried one in its partition is handled again, so a
    // product may be dead-lettered twice, but always for the same reason.
    Map<String, String> reasons = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : dlq.get()) {
      String sku = new String(r.key(), java.nio.charset.StandardCharsets.UTF_8).substring(t.length() + 1);
      String reason = PipelineHeaders.get(r.headers(), PipelineHeaders.DLQ_REASON);
      assertEquals(expected.get(sku), reason, sku);
      reasons.put(sku, reason);
      assertEquals(ImageIndexerService.NAME, PipelineHeaders.get(r.headers(), PipelineHeaders.DLQ_SERVICE));
      assertEquals("catalog.products", PipelineHeaders.get(r.headers(), PipelineHeaders.DLQ_ORIGIN_TOPIC));
    }
    assertEquals(expected, reasons);
    String notFound = messageFor(dlq.get(), t + "/missing");
    assertTrue(notFound.contains("image_link " + links.get("missing")) && notFound.contains("HTTP 404"), notFound);
    String bomb = messageFor(dlq.get(), t + "/bomb");
    assertTrue(bomb.contains("50000x50000"), bomb);
    String metadata = messageFor(dlq.get(), t + "/metadata");
    assertTrue(metadata.contains("169.254.169.254"), metadata);
    assertEquals(images.hits("/good.png"), images.downloads("/good.png"));
    for (String sku : expected.keySet()) {
      assertEquals(List.of(), ready(t, sku), sku + " must not reach images.ready");
    }
    assertTrue(indexer.host.components().stream().allMatch(c -> c.check().ok()), "the service keeps running");
  }

  /**
   * One retailer's dead CDN: each product's retry rounds pause every partition, so once a host has
   * used up the retries of three products, its next products are dead-lettered without a fetch.
   */
  @Test
  void aHostThatFailedThreeProductsThroughTheirRetriesIsNotAskedForTheNext() throws Exception {
    String t = "dead-cdn";
    images.status("/down.png", 503);
    Supplier<List<ConsumerRecord<byte[], byte[]>>> dlq = () -> recorder.records("catalog.products.dlq", t + "/");
    for (int i = 0; i < 3; i++) {
      indexer.send(IndexerFixture.product(t, "p" + i, images.url("/down.png"), 1_000_000));
    }
    await().atMost(Duration.ofSeconds(90)).until(() -> dlq.get().stream()
        .map(r -> new String(r.key(), java.nio.charset.StandardCharsets.UTF_8)).distinct().count() == 3);
    int fetchedBefore = images.hits("/down.png");
    indexer.send(IndexerFixture.product(t, "p3", images.url("/down.png"), 1_000_000));
    await().atMost(Duration.ofSeconds(30)).until(() -> dlq.get().stream()
        .anyMatch(r -> new String(r.key(), java.nio.charset.StandardCharsets.UTF_8).equals(t + "/p3")));
    assertEquals(fetchedBefore, images.hits("/down.png"), "the fourth product was not fetched");
    String message = messageFor(dlq.get(), t + "/p3");
    assertTrue(message.contains("not fetched: host 127.0.0.1:" + images.port()), message);
    assertEquals("image-host-unavailable", dlq.get().stream()
        .filter(r -> new String(r.key(), java.nio.charset.StandardCharsets.UTF_8).equals(t + "/p3"))
        .map(r -> PipelineHeaders.get(r.headers(), PipelineHeaders.DLQ_REASON)).findFirst().orElseThrow());
  }

  /**
   * A retailer's CDN goes down during its daily feed while its existing products change price:
   * each is re-announced at once with the image we hold, none is dead-lettered, and after a few
   * failed conditional GETs the host is not asked again (but for a probe a minute).
   */
  @Test
  void priceChangesWhileTheImageHostIsDownKeepTheStoredImages() throws Exception {
    String t = "cdn-outage";
    int products = 30;
    Map<String, String> indexed = new HashMap<>();
    for (int i = 0; i < products; i++) {
      images.image("/o" + i + ".png", TestImages.png(new Color(20 + 7 * i, 90, 160)), "image/png", "\"o" + i + "\"");
      indexer.send(IndexerFixture.product(t, "p" + i, images.url("/o" + i + ".png"), 1_000_000));
    }
    for (int i = 0; i < products; i++) {
      awaitReady(t, "p" + i, 1);
      indexed.put("p" + i, last(t, "p" + i).getImageSha256());
      images.status("/o" + i + ".png", 503);
    }

    long outageStart = System.nanoTime();
    Map<String, String> productVersions = new HashMap<>();
    for (int i = 0; i < products; i++) {
      ProductUpsert cheaper = IndexerFixture.product(t, "p" + i, images.url("/o" + i + ".png"), 900_000);
      productVersions.put("p" + i, cheaper.getContentHash());
      indexer.send(cheaper);
    }
    Supplier<List<ConsumerRecord<byte[], byte[]>>> dlq = () -> recorder.records("catalog.products.dlq", t + "/");
    await().atMost(Duration.ofSeconds(120)).until(() -> indexed.keySet().stream().allMatch(sku ->
        ready(t, sku).size() >= 2 || dlq.get().stream().anyMatch(r -> new String(r.key(),
            java.nio.charset.StandardCharsets.UTF_8).equals(t + "/" + sku))));
    long minutes = Duration.ofNanos(System.nanoTime() - outageStart).toMinutes();

    int conditionalGets = 0;
    for (int i = 0; i < products; i++) {
      conditionalGets += images.hits("/o" + i + ".png") - 1;
    }
    // IMAGE_FETCH_ATTEMPTS=1: one request a refresh. Before the host is marked failing, fewer than
    // FAILING_HOST_PRODUCTS refreshes have failed and at most CONCURRENCY are in flight; after it,
    // one probe a minute.
    long bound = ImageIndexerService.FAILING_HOST_PRODUCTS - 1 + ImageIndexerSettings.CONCURRENCY.defaultValue()
        + 1 + minutes;
    assertTrue(conditionalGets <= bound, conditionalGets + " conditional GETs to a down host for " + products
        + " price changes, more than " + bound);
    assertEquals(List.of(), dlq.get().stream().map(r -> new String(r.key(), java.nio.charset.StandardCharsets.UTF_8)
        + ": " + PipelineHeaders.get(r.headers(), PipelineHeaders.DLQ_REASON)).toList(),
        "a product whose image we hold is not dead-lettered for its host's outage");
    for (String sku : indexed.keySet()) {
      assertEquals(2, ready(t, sku).size(), sku);
      ImageReady r = last(t, sku);
      assertEquals(indexed.get(sku), r.getImageSha256(), sku + ": the stored image");
      assertEquals(productVersions.get(sku), r.getProductContentHash(), sku + ": the new product version");
      assertTrue(indexer.store.exists(r.getObjectKey()));
    }
    assertTrue(indexer.metrics().contains("image_indexer_kept_stale_total{reason=\"host-failing\"}"),
        "stale reuse visible on /metrics");
  }

  static String messageFor(List<ConsumerRecord<byte[], byte[]>> records, String key) {
    return records.stream().filter(r -> new String(r.key(), java.nio.charset.StandardCharsets.UTF_8).equals(key))
        .map(r -> PipelineHeaders.get(r.headers(), PipelineHeaders.DLQ_EXCEPTION_MESSAGE)).findFirst().orElseThrow();
  }

  /** The fetch, validate and store steps are child spans in the product's trace, tagged for search in Zipkin. */
  static void assertSpansInZipkin(EmbeddedStack stack, String traceId, String sha) {
    HttpClient http = HttpClient.newHttpClient();
    ObjectMapper json = new ObjectMapper();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(
          URI.create(stack.zipkin().baseUrl() + "/api/v2/trace/" + traceId)).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return false;
      }
      Map<String, JsonNode> byName = new HashMap<>();
      for (JsonNode span : json.readTree(r.body())) {
        byName.put(span.path("name").asText(), span);
      }
      if (!byName.keySet().containsAll(Set.of("image fetch", "image validate", "image store"))) {
        return false;
      }
      JsonNode fetch = byName.get("image fetch").path("tags");
      JsonNode store = byName.get("image store").path("tags");
      return fetch.path("http.response.status_code").asText().equals("200")
          && fetch.path("tenant").asText().equals("it-img") && fetch.path("sku").asText().equals("p-1")
          && store.path("sha256").asText().equals(sha) && !store.path("bytes").asText().isEmpty();
    });
  }
}
