package io.visualsearch.catalogdownloader;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.visualsearch.config.Config;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.proto.events.ProductUpsert;
import io.visualsearch.runtime.OpsServer;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The catalog-downloader on the real broker and S3 server, fed by a local HTTP feed server. */
@ExtendWith(StackExtension.class)
class ITCatalogDownloader {

  final Map<String, byte[]> feeds = new java.util.concurrent.ConcurrentHashMap<>();
  final List<ConsumerRecord<byte[], byte[]>> seen = new CopyOnWriteArrayList<>();
  final List<AutoCloseable> cleanup = new ArrayList<>();
  final HttpClient http = HttpClient.newHttpClient();
  /** Feeds served as headers and a first line, then nothing until released: a feed server that hangs. */
  final CountDownLatch releaseStalledFeeds = new CountDownLatch(1);
  final AtomicInteger stalledDownloads = new AtomicInteger();
  HttpServer feedServer;
  ServiceHost host;

  @AfterEach
  void stop() throws Exception {
    releaseStalledFeeds.countDown();
    if (host != null) {
      host.close();
    }
    for (AutoCloseable c : cleanup) {
      c.close();
    }
    if (feedServer != null) {
      feedServer.stop(0);
      ((ExecutorService) feedServer.getExecutor()).shutdownNow();
    }
  }

  String serveFeeds() throws Exception {
    feedServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    feedServer.createContext("/stalls", ex -> {
      stalledDownloads.incrementAndGet();
      ex.sendResponseHeaders(200, 1_000_000);
      OutputStream body = ex.getResponseBody();
      body.write("id\ttitle\n".getBytes(StandardCharsets.UTF_8));
      body.flush();
      try {
        releaseStalledFeeds.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ex.close(); // short of the announced length: the download fails
    });
    feedServer.createContext("/", conditionalFeeds(feeds));
    feedServer.setExecutor(Executors.newCachedThreadPool());
    feedServer.start();
    return "http://127.0.0.1:" + feedServer.getAddress().getPort();
  }

  /**
   * Serves the feed stored under the request's path (404 when there is none) with an ETag of its
   * bytes, and answers 304 to a conditional GET naming that ETag.
   */
  static HttpHandler conditionalFeeds(Map<String, byte[]> feeds) {
    return ex -> {
      byte[] body = feeds.get(ex.getRequestURI().getPath());
      if (body == null) {
        ex.sendResponseHeaders(404, -1);
        ex.close();
        return;
      }
      String etag = "\"" + java.util.Arrays.hashCode(body) + "\"";
      if (etag.equals(ex.getRequestHeaders().getFirst("If-None-Match"))) {
        ex.sendResponseHeaders(304, -1);
        ex.close();
        return;
      }
      ex.getResponseHeaders().set("ETag", etag);
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream os = ex.getResponseBody()) {
        os.write(body);
      }
    };
  }

  void startDownloader(EmbeddedStack stack, String sources) throws Exception {
    startDownloader(stack, sources, Map.of());
  }

  void startDownloader(EmbeddedStack stack, String sources, Map<String, String> settings) throws Exception {
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    env.put("CATALOG_SOURCES", sources);
    env.put("CATALOG_FEED_ALLOW", "127.0.0.1/32"); // the test's feed server
    env.put("CATALOG_SYNC_INTERVAL", "0s");
    env.put("CATALOG_GUARD_MIN_PRODUCTS", "5");
    env.putAll(settings);
    Config config = CatalogDownloaderService.definition().include(RuntimeSettings.definition()).parse(env);
    host = new ServiceHost(CatalogDownloaderService.NAME);
    CatalogDownloaderService.wire(config, host);
    host.start();
  }

  int opsPort() {
    return host.components().stream().filter(c -> c instanceof OpsServer).map(c -> ((OpsServer) c).port())
        .findFirst().orElseThrow();
  }

  HttpResponse<String> sync(String tenant) throws Exception {
    return http.send(syncRequest(tenant), HttpResponse.BodyHandlers.ofString());
  }

  HttpRequest syncRequest(String tenant) {
    return HttpRequest.newBuilder(ops("/sync?tenant=" + tenant)).POST(HttpRequest.BodyPublishers.noBody()).build();
  }

  URI ops(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + opsPort() + pathAndQuery);
  }

  void collect(EmbeddedStack stack) {
    Properties p = new Properties();
    p.put("bootstrap.servers", stack.kafkaBootstrapServers());
    p.put("group.id", "it-catalog-reader-" + System.nanoTime());
    p.put("auto.offset.reset", "earliest");
    KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    c.subscribe(List.of("catalog.products", "catalog.products.dlq"));
    AtomicReference<Boolean> stop = new AtomicReference<>(false);
    Thread t = new Thread(() -> {
      while (!stop.get()) {
        c.poll(Duration.ofMillis(200)).forEach(seen::add);
      }
      c.close();
    });
    t.start();
    cleanup.add(() -> {
      stop.set(true);
      t.join();
    });
  }

  List<ConsumerRecord<byte[], byte[]>> records(String topic, String tenant) {
    return seen.stream().filter(r -> r.topic().equals(topic))
        .filter(r -> new String(r.key(), StandardCharsets.UTF_8).startsWith(tenant + "/")).toList();
  }

  static String tsv(int n, java.util.function.IntFunction<String> price, java.util.Set<Integer> skip) {
    StringBuilder sb = new StringBuilder("id\ttitle\tlink\timage_link\tprice\tavailability\tbrand\tproduct_type\n");
    for (int i = 0; i < n; i++) {
      if (!skip.contains(i)) {
        sb.append("p-").append(i).append("\tShirt ").append(i).append("\thttps://shop.example/p/").append(i)
            .append("\thttps://img.example/").append(i).append(".jpg\t").append(price.apply(i))
            .append("\tin_stock\tAcme\tApparel > Shirts\n");
      }
    }
    return sb.toString();
  }

  @Test
  void emitsOnlyWhatChangedAndRefusesAFeedThatWouldEmptyTheCatalog(EmbeddedStack stack) throws Exception {
    String base = serveFeeds();
    feeds.put("/shop.tsv", tsv(20, i -> "10.00 USD", java.util.Set.of()).getBytes(StandardCharsets.UTF_8));
    collect(stack);
    // A private feed's token is in its URL: it must not travel with the records or the reports.
    startDownloader(stack, "it-shop=" + base + "/shop.tsv?token=s3cr3t");

    HttpResponse<String> applied = sync("it-shop");
    assertEquals(200, applied.statusCode());
    assertFalse(applied.body().contains("s3cr3t"), applied.body());
    await().atMost(Duration.ofSeconds(30)).until(() -> records("catalog.products", "it-shop").size() == 20);
    ConsumerRecord<byte[], byte[]> first = records("catalog.products", "it-shop").get(0);
    ProductUpsert u = ProductUpsert.parseFrom(first.value());
    assertEquals(base + "/shop.tsv?token=***", u.getSource());
    assertEquals("it-shop", u.getTenant());
    assertEquals(10_000_000, u.getProduct().getPrice().getAmountMicros());
    assertEquals("USD", u.getProduct().getPrice().getCurrency());
    assertEquals("it-shop", PipelineHeaders.get(first.headers(), "tenant"));
    assertTrue(PipelineHeaders.get(first.headers(), "traceparent") != null, "every product starts a trace");

    // Unchanged feed (the server answers 304): nothing emitted.
    HttpResponse<String> again = sync("it-shop");
    assertTrue(again.body().contains("NOT_MODIFIED"), again.body());

    // One price change and one product gone: exactly one upsert and one tombstone.
    feeds.put("/shop.tsv", tsv(20, i -> i == 3 ? "12.50 USD" : "10.00 USD", java.util.Set.of(7))
        .getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> changed = sync("it-shop");
    assertTrue(changed.body().contains("\"upserts\":1") && changed.body().contains("\"deletes\":1"), changed.body());
    await().atMost(Duration.ofSeconds(30)).until(() -> records("catalog.products", "it-shop").size() == 22);
    List<ConsumerRecord<byte[], byte[]>> all = records("catalog.products", "it-shop");
    ConsumerRecord<byte[], byte[]> update = all.get(20).value() == null ? all.get(21) : all.get(20);
    ConsumerRecord<byte[], byte[]> tombstone = all.get(20).value() == null ? all.get(20) : all.get(21);
    assertEquals("it-shop/p-3", new String(update.key(), StandardCharsets.UTF_8));
    assertEquals(12_500_000, ProductUpsert.parseFrom(update.value()).getProduct().getPrice().getAmountMicros());
    assertEquals("it-shop/p-7", new String(tombstone.key(), StandardCharsets.UTF_8));
    assertNull(tombstone.value());

    // A truncated download that would delete 90% of the catalog is refused and reported.
    feeds.put("/shop.tsv", tsv(2, i -> "10.00 USD", java.util.Set.of()).getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> refused = sync("it-shop");
    assertEquals(422, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("REFUSED"), refused.body());
    await().atMost(Duration.ofSeconds(30)).until(() -> records("catalog.products.dlq", "it-shop").size() == 1);
    ConsumerRecord<byte[], byte[]> refusal = records("catalog.products.dlq", "it-shop").get(0);
    assertTrue(PipelineHeaders.get(refusal.headers(), PipelineHeaders.DLQ_REASON).startsWith("feed-refused"));
    assertFalse(new String(refusal.value(), StandardCharsets.UTF_8).contains("s3cr3t"));
    assertTrue(PipelineHeaders.get(refusal.headers(), "traceparent") != null, "in the sync's trace");
    Thread.sleep(1000);
    assertEquals(22, records("catalog.products", "it-shop").size(), "a refused feed applies nothing");

    // The feed's URL answers 404: the retailer's to fix, refused as well (a 503 told its sync job
    // to retry it for ever), and nothing applied: not every product deleted.
    feeds.remove("/shop.tsv");
    HttpResponse<String> gone = sync("it-shop");
    assertEquals(422, gone.statusCode(), gone.body());
    assertTrue(gone.body().contains("REFUSED") && gone.body().contains("answered HTTP 404"), gone.body());
    assertFalse(gone.body().contains("s3cr3t"), gone.body());
    await().atMost(Duration.ofSeconds(30)).until(() -> records("catalog.products.dlq", "it-shop").size() == 2);
    assertEquals("feed-refused-unavailable", PipelineHeaders.get(
        records("catalog.products.dlq", "it-shop").get(1).headers(), PipelineHeaders.DLQ_REASON));
    assertEquals(22, records("catalog.products", "it-shop").size(), "a feed that is gone applies nothing");
  }

  @Test
  void ingestsJsonLinesGzipAndRssFeedsAndReportsBadRows(EmbeddedStack stack) throws Exception {
    String base = serveFeeds();
    StringBuilder jsonl = new StringBuilder();
    for (int i = 0; i < 5; i++) {
      jsonl.append("{\"id\":\"j-").append(i).append("\",\"title\":\"Boot ").append(i)
          .append("\",\"image_link\":\"https://img.example/j").append(i).append(".jpg\",\"price\":\"59.90 EUR\"}\n");
    }
    jsonl.append("{\"id\":\"j-bad\",\"title\":\"No price\",\"image_link\":\"https://img.example/x.jpg\"}\n");
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
      out.write(jsonl.toString().getBytes(StandardCharsets.UTF_8));
    }
    feeds.put("/boots.jsonl.gz", gz.toByteArray());
    String rss = """
        <?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>t</title>
        <item><g:id>x-1</g:id><title>Bag</title><link>https://shop.example/x1</link>
        <g:image_link>https://img.example/x1.jpg</g:image_link><g:price>30.00 USD</g:price>
        <g:availability>out_of_stock</g:availability></item>
        <item><g:id>x-2</g:id><title>Belt</title><link>https://shop.example/x2</link>
        <g:image_link>https://img.example/x2.jpg</g:image_link><g:price>15.00 USD</g:price>
        <g:availability>in_stock</g:availability></item>
        </channel></rss>
        """;
    feeds.put("/bags.xml", rss.getBytes(StandardCharsets.UTF_8));
    collect(stack);
    startDownloader(stack, "it-boots=" + base + "/boots.jsonl.gz,it-bags=" + base + "/bags.xml");
    assertEquals(200, sync("it-boots").statusCode());
    assertEquals(200, sync("it-bags").statusCode());
    await().atMost(Duration.ofSeconds(30)).until(() -> records("catalog.products", "it-boots").size() == 5
        && records("catalog.products", "it-bags").size() == 2 && records("catalog.products.dlq", "it-boots").size() == 1);
    ProductUpsert bag = ProductUpsert.parseFrom(records("catalog.products", "it-bags").get(0).value());
    assertEquals("out_of_stock", bag.getProduct().getAvailability());
    ConsumerRecord<byte[], byte[]> bad = records("catalog.products.dlq", "it-boots").get(0);
    assertEquals("it-boots/j-bad", new String(bad.key(), StandardCharsets.UTF_8));
    assertEquals("feed-row-rejected", PipelineHeaders.get(bad.headers(), PipelineHeaders.DLQ_REASON));
    assertTrue(PipelineHeaders.get(bad.headers(), "traceparent") != null, "the rejected row has a trace");
    // Counted as a dead letter, as the health page and alerts read it.
    String metrics = http.send(HttpRequest.newBuilder(ops("/metrics")).build(), HttpResponse.BodyHandlers.ofString())
        .body();
    assertTrue(metrics.contains(
        "pipeline_dlq_records_total{reason=\"feed-row-rejected\",tenant=\"it-boots\",topic=\"catalog.products\"} 1"),
        metrics);
  }

  /**
   * The tenant's snapshot deleted from the object store between two syncs: without it the second
   * sync knew of no product to remove, and p-7, gone from the feed, stayed searchable for good.
   * The ids come back from catalog.products itself, read on the broker.
   */
  @Test
  void aProductRemovedWhileTheSnapshotIsLostIsStillTombstoned(EmbeddedStack stack) throws Exception {
    String base = serveFeeds();
    feeds.put("/lost.tsv", tsv(10, i -> "10.00 USD", java.util.Set.of()).getBytes(StandardCharsets.UTF_8));
    collect(stack);
    startDownloader(stack, "it-lost=" + base + "/lost.tsv");
    assertEquals(200, sync("it-lost").statusCode());
    await().atMost(Duration.ofSeconds(30)).until(() -> records("catalog.products", "it-lost").size() == 10);

    ObjectStore store = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(stack.serviceEnvironment()),
        false);
    store.start();
    cleanup.add(store::close);
    store.delete("catalog/it-lost/snapshot.bin");
    feeds.put("/lost.tsv", tsv(10, i -> "10.00 USD", java.util.Set.of(7)).getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> recovered = sync("it-lost");
    assertEquals(200, recovered.statusCode(), recovered.body());
    assertTrue(recovered.body().contains("\"deletes\":1") && recovered.body().contains("\"reconciled\":1"),
        recovered.body());
    await().atMost(Duration.ofSeconds(30)).until(() -> records("catalog.products", "it-lost").size() == 20);
    List<ConsumerRecord<byte[], byte[]>> after = records("catalog.products", "it-lost").subList(10, 20);
    List<String> tombstones = after.stream().filter(r -> r.value() == null)
        .map(r -> new String(r.key(), StandardCharsets.UTF_8)).toList();
    assertEquals(List.of("it-lost/p-7"), tombstones);
    assertTrue(store.exists("catalog/it-lost/snapshot.bin"), "the snapshot is saved again");

    HttpResponse<String> again = sync("it-lost");
    assertTrue(again.body().contains("NOT_MODIFIED"), again.body());
  }

  @Test
  void aProductTooLargeForOneKafkaRecordIsARejectedRowAndTheRestOfTheFeedApplies(EmbeddedStack stack) throws Exception {
    String base = serveFeeds();
    // 400,000 CJK characters: "400k" counted in chars, 1.2 MB as UTF-8 and as a ProductUpsert, above
    // the producer's 1 MiB max.request.size. Sent, it failed every sync of the tenant for good.
    String rss = """
        <?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>t</title>
        <item><g:id>tea-1</g:id><title>Sencha</title><link>https://shop.example/tea-1</link>
        <g:image_link>https://img.example/tea-1.jpg</g:image_link><g:price>9.00 USD</g:price></item>
        <item><g:id>tea-big</g:id><title>Gyokuro</title><link>https://shop.example/tea-big</link>
        <description>%s</description>
        <g:image_link>https://img.example/tea-big.jpg</g:image_link><g:price>30.00 USD</g:price></item>
        </channel></rss>
        """.formatted("\u7da0".repeat(400_000));
    feeds.put("/teas.xml", rss.getBytes(StandardCharsets.UTF_8));
    collect(stack);
    startDownloader(stack, "it-teas=" + base + "/teas.xml");

    HttpResponse<String> applied = sync("it-teas");
    assertEquals(200, applied.statusCode(), applied.body());
    assertTrue(applied.body().contains("APPLIED") && applied.body().contains("\"upserts\":1")
        && applied.body().contains("\"rejected_rows\":1"), applied.body());
    await().atMost(Duration.ofSeconds(30)).until(() -> records("catalog.products.dlq", "it-teas").size() == 1
        && records("catalog.products", "it-teas").size() == 1);
    assertEquals("it-teas/tea-1", new String(records("catalog.products", "it-teas").get(0).key(), StandardCharsets.UTF_8));
    ConsumerRecord<byte[], byte[]> rejected = records("catalog.products.dlq", "it-teas").get(0);
    assertEquals("it-teas/tea-big", new String(rejected.key(), StandardCharsets.UTF_8));
    assertEquals("feed-row-rejected", PipelineHeaders.get(rejected.headers(), PipelineHeaders.DLQ_REASON));
    String why = new String(rejected.value(), StandardCharsets.UTF_8);
    assertTrue(why.contains("tea-big"), why);
    long largest = Pattern.compile("\\d+").matcher(why).results().mapToLong(m -> Long.parseLong(m.group())).max()
        .orElse(0);
    assertTrue(largest > 1_048_576, "the reason gives the product's size (1.2 MB): " + why);

    // Applied, so remembered: the unchanged feed is not downloaded, diffed or sent again.
    HttpResponse<String> again = sync("it-teas");
    assertEquals(200, again.statusCode(), again.body());
    assertTrue(again.body().contains("NOT_MODIFIED"), again.body());
    assertEquals(1, records("catalog.products", "it-teas").size());
    assertEquals(1, records("catalog.products.dlq", "it-teas").size());
  }

  @Test
  void syncRequestsWaitingOnAStalledFeedLeaveTheOpsPortAnswering(EmbeddedStack stack) throws Exception {
    String base = serveFeeds();
    startDownloader(stack, "it-stall=" + base + "/stalls",
        Map.of("CATALOG_SYNC_REPLY_WAIT", "1s", "CATALOG_HTTP_TIMEOUT", "10m"));
    // The ops server has two threads for everything. Two requests waiting for syncs held both, so
    // /healthz went unanswered and the kubelet restarted the pod mid-sync.
    CompletableFuture<HttpResponse<String>> first = http.sendAsync(syncRequest("it-stall"),
        HttpResponse.BodyHandlers.ofString());
    CompletableFuture<HttpResponse<String>> second = http.sendAsync(syncRequest("it-stall"),
        HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(30)).until(() -> stalledDownloads.get() == 1);

    // Bounds on a hang, not measurements: without the fix these never answer while the feed stalls.
    HttpResponse<String> health = http.send(HttpRequest.newBuilder(ops("/healthz")).timeout(Duration.ofSeconds(30))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, health.statusCode());
    for (HttpResponse<String> accepted : List.of(first.get(60, TimeUnit.SECONDS), second.get(60, TimeUnit.SECONDS))) {
      assertEquals(202, accepted.statusCode(), accepted.body());
      assertEquals("/sync?tenant=it-stall", accepted.headers().firstValue("Location").orElse(""));
      assertTrue(accepted.body().contains("ACCEPTED"), accepted.body());
    }
    HttpResponse<String> state = http.send(HttpRequest.newBuilder(ops("/sync?tenant=it-stall")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, state.statusCode(), state.body());
    assertTrue(state.body().contains("\"running\":true"), state.body());

    // The feed server gives up: the download fails, and the outcome is where the 202 pointed.
    releaseStalledFeeds.countDown();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      String body = http.send(HttpRequest.newBuilder(ops("/sync?tenant=it-stall")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      return body.contains("\"status\":\"FAILED\"") && body.contains("\"running\":false")
          && body.contains("\"queued\":false");
    });
  }
}
