package io.visualsearch.imageindexer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.catalogdownloader.CatalogDownloaderService;
import io.visualsearch.config.Config;
import io.visualsearch.imageindexer.CatalogFeeds.Format;
import io.visualsearch.imageindexer.CatalogFeeds.Row;
import io.visualsearch.proto.events.ImageReady;
import io.visualsearch.proto.events.ProductUpsert;
import io.visualsearch.runtime.OpsServer;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.awt.Color;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The ingest path end to end on the real broker, S3 server and a local HTTP server: a retailer's
 * feed in each format → catalog-downloader → catalog.products → image-indexer → images/ + images.ready.
 */
@ExtendWith(StackExtension.class)
class ITFeedToImages {

  static final Color[] COLORS = {Color.RED, Color.GREEN, Color.BLUE, Color.ORANGE, Color.PINK};
  static final Set<String> OUTPUTS = Set.of("catalog.products", "images.ready");

  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void everyFormatIngestsAndOnlyRealChangesTravelOrDownload(EmbeddedStack stack) throws Exception {
    try (ImageHost host = new ImageHost();
        TopicRecorder recorder = new TopicRecorder(stack, List.of("catalog.products", "images.ready"));
        IndexerFixture indexer = new IndexerFixture(stack)) {
      List<String> sources = new ArrayList<>();
      for (Format f : Format.values()) {
        String tenant = tenant(f);
        for (int i = 0; i < 4; i++) {
          host.image(imagePath(tenant, i), TestImages.png(COLORS[i]), "image/png", "\"" + tenant + i + "\"");
        }
        // No validators on the feed: every sync really downloads and diffs it.
        host.image(feedPath(tenant), CatalogFeeds.write(f, rows(host, tenant, false)), "text/plain", null);
        sources.add(tenant + "=" + host.url(feedPath(tenant)));
      }
      try (ServiceHost downloader = downloader(stack, String.join(",", sources))) {
        for (Format f : Format.values()) {
          String tenant = tenant(f);
          assertEquals(200, sync(downloader, tenant).statusCode());
          await().atMost(Duration.ofSeconds(60)).until(() -> recorder.records("images.ready", tenant + "/").size() == 4);
          for (ConsumerRecord<byte[], byte[]> r : recorder.records("images.ready", tenant + "/")) {
            ImageReady ready = ImageReady.parseFrom(r.value());
            assertTrue(indexer.store.exists(ready.getObjectKey()), f + ": " + ready.getObjectKey());
          }
        }

        for (Format f : Format.values()) {
          String tenant = tenant(f);
          host.image(imagePath(tenant, 9), TestImages.png(COLORS[4]), "image/png", "\"" + tenant + "9\"");
          // p-0 gets cheaper, p-1 leaves the feed, p-2 gets a new picture under a new link.
          host.image(feedPath(tenant), CatalogFeeds.write(f, rows(host, tenant, true)), "text/plain", null);
          int products = recorder.records("catalog.products", tenant + "/").size();
          int ready = recorder.records("images.ready", tenant + "/").size();
          HttpResponse<String> changed = sync(downloader, tenant);
          assertTrue(changed.body().contains("\"upserts\":2") && changed.body().contains("\"deletes\":1"),
              changed.body());
          await().atMost(Duration.ofSeconds(60)).until(() -> recorder.drained(ImageIndexerService.NAME,
              "catalog.products", OUTPUTS));

          List<ConsumerRecord<byte[], byte[]>> news = recorder.records("catalog.products", tenant + "/");
          news = news.subList(products, news.size());
          assertEquals(3, news.size(), f + ": one upsert for the price, one tombstone, one upsert for the image");
          assertEquals(12_500_000, ProductUpsert.parseFrom(only(news, tenant + "/p-0").value()).getProduct()
              .getPrice().getAmountMicros());
          assertNull(only(news, tenant + "/p-1").value());

          List<ConsumerRecord<byte[], byte[]>> out = recorder.records("images.ready", tenant + "/");
          List<ConsumerRecord<byte[], byte[]>> before = out.subList(0, ready);
          out = out.subList(ready, out.size());
          assertEquals(3, out.size(), f.toString());
          assertEquals(sha(only(before, tenant + "/p-0")), sha(only(out, tenant + "/p-0")), "price change, same image");
          assertNull(only(out, tenant + "/p-1").value(), "the tombstone travels on");
          assertNotEquals(sha(only(before, tenant + "/p-2")), sha(only(out, tenant + "/p-2")));
          for (int i = 0; i < 4; i++) {
            assertEquals(1, host.downloads(imagePath(tenant, i)), f + ": image " + i + " downloaded once only");
          }
          assertEquals(1, host.downloads(imagePath(tenant, 9)), f + ": exactly one re-download");
          assertEquals(1, host.notModified(imagePath(tenant, 0)), f + ": the price change asked the host, got 304");
        }

        // The same feeds again: downloaded and diffed, and nothing changes anywhere.
        int products = recorder.records("catalog.products", "ff-").size();
        int ready = recorder.records("images.ready", "ff-").size();
        int downloads = 0;
        for (Format f : Format.values()) {
          HttpResponse<String> same = sync(downloader, tenant(f));
          assertTrue(same.body().contains("\"upserts\":0") && same.body().contains("\"deletes\":0"), same.body());
          downloads += host.downloads(feedPath(tenant(f)));
        }
        assertEquals(3 * Format.values().length, downloads, "each feed was really fetched three times");
        await().atMost(Duration.ofSeconds(60)).until(() -> recorder.drained(ImageIndexerService.NAME,
            "catalog.products", OUTPUTS));
        assertEquals(products, recorder.records("catalog.products", "ff-").size());
        assertEquals(ready, recorder.records("images.ready", "ff-").size());
      }
    }
  }

  static String tenant(Format f) {
    return "ff-" + f.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  static String feedPath(String tenant) {
    return "/feeds/" + tenant;
  }

  static String imagePath(String tenant, int i) {
    return "/img/" + tenant + "/" + i + ".png";
  }

  static List<Row> rows(ImageHost host, String tenant, boolean changed) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      if (changed && i == 1) {
        continue;
      }
      String price = changed && i == 0 ? "12.50 USD" : "10.00 USD";
      int image = changed && i == 2 ? 9 : i;
      rows.add(new Row("p-" + i, "Shirt " + i, host.url(imagePath(tenant, image)), price));
    }
    return rows;
  }

  static ConsumerRecord<byte[], byte[]> only(List<ConsumerRecord<byte[], byte[]>> records, String key) {
    List<ConsumerRecord<byte[], byte[]>> match = records.stream()
        .filter(r -> new String(r.key(), StandardCharsets.UTF_8).equals(key)).toList();
    assertEquals(1, match.size(), key);
    return match.get(0);
  }

  static String sha(ConsumerRecord<byte[], byte[]> r) throws Exception {
    return ImageReady.parseFrom(r.value()).getImageSha256();
  }

  ServiceHost downloader(EmbeddedStack stack, String sources) throws Exception {
    Map<String, String> env = IndexerFixture.env(stack);
    env.put("CATALOG_SOURCES", sources);
    env.put("CATALOG_FEED_ALLOW", "127.0.0.1/32"); // the test's feed server
    env.put("CATALOG_SYNC_INTERVAL", "0s");
    Config config = CatalogDownloaderService.definition().include(RuntimeSettings.definition()).parse(env);
    ServiceHost host = new ServiceHost(CatalogDownloaderService.NAME);
    CatalogDownloaderService.wire(config, host);
    host.start();
    return host;
  }

  HttpResponse<String> sync(ServiceHost downloader, String tenant) throws Exception {
    int port = downloader.components().stream().filter(c -> c instanceof OpsServer)
        .map(c -> ((OpsServer) c).port()).findFirst().orElseThrow();
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/sync?tenant=" + tenant))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }
}
