package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.FaultyLink;
import io.visualsearch.stack.StackExtension;
import java.awt.Color;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** search-api while the object store is away, on the real stack behind a link the test cuts. */
@ExtendWith(StackExtension.class)
class ITStoreOutage {

  static final String KEY = "outage-key-0123456789abcdef";
  final HttpClient http = HttpClient.newHttpClient();

  HttpResponse<String> get(String url, String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Searches answer from the loaded index and never touch the store, yet one failed store call
   * made every replica unready at once (a 503 SlowDown, a credential rotation's 403), and the
   * Service was left with no endpoints. Only what needs the store answers 503 meanwhile.
   */
  @Test
  void aStoreOutageLeavesTheInstanceInRotationAndAnswersWhatNeedsTheStore503(EmbeddedStack stack) throws Exception {
    URI s3 = URI.create(stack.serviceEnvironment().get("S3_ENDPOINT"));
    try (FaultyLink link = new FaultyLink(s3.getHost(), s3.getPort());
        StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "outage:" + KEY,
            "S3_ENDPOINT", link.httpEndpoint(), "KAFKA_GROUP_ID", "it-store-outage"))) {
      fx.upsertProduct("outage", "sku-1", "outage shirt", "Apparel > Shirts", 5_000_000L, "in stock");
      fx.publication.publish("outage", "20250108T000000Z-o1", 1,
          Map.of("sku-1", fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.RED))), 1, fx.embeddingsEnd());
      String base = "http://127.0.0.1:" + fx.startService().httpPort();
      await().atMost(Duration.ofSeconds(60)).until(() -> get(base + "/readyz", null).statusCode() == 200);
      // Served, no similar-items file yet: a product page's lookup goes to the store.
      await().atMost(Duration.ofSeconds(60)).until(() ->
          get(base + "/api/v1/products/sku-1/similar", KEY).body().contains("similar_not_available"));

      link.cut();
      HttpResponse<String> similar = get(base + "/api/v1/products/sku-1/similar", KEY);
      assertEquals(503, similar.statusCode(), similar.body());
      assertTrue(similar.body().contains("store_unavailable"), similar.body());
      assertTrue(similar.headers().firstValue("Retry-After").isPresent());
      HttpResponse<String> ready = get(base + "/readyz", null);
      assertEquals(200, ready.statusCode(), "searches need no store: " + ready.body());
      HttpResponse<String> search = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/search"))
          .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(ITAdmission.requestBody())).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, search.statusCode(), "answered from the loaded index: " + search.body());

      link.restore();
      await().atMost(Duration.ofSeconds(60)).until(() ->
          get(base + "/api/v1/products/sku-1/similar", KEY).body().contains("similar_not_available"));
    }
  }
}
