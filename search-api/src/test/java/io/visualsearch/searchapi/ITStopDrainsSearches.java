package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.awt.Color;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Stopping search-api (SIGTERM on a rollout or a node drain) lets the searches already in flight
 * finish and answer, instead of cutting their connections.
 */
@ExtendWith(StackExtension.class)
class ITStopDrainsSearches {

  static final String KEY = "acme-key-0123456789abcdef";

  @Test
  void aSearchInFlightWhenTheServiceStopsIsStillAnswered(EmbeddedStack stack) throws Exception {
    try (StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "acme:" + KEY,
        "KAFKA_GROUP_ID", "it-stop-drains"))) {
      fx.upsertProduct("acme", "drain-0", "shirt", "Apparel > Shirts", 10_000_000L, "in stock");
      float[] e = fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.RED));
      fx.sendEmbedding("acme", "drain-0", e, 1);
      fx.publication.publish("acme", "20250101T000001Z-d1", 1, Map.of("drain-0", e), 1, fx.embeddingsEnd());
      fx.startService();
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      URI uri = URI.create("http://127.0.0.1:" + fx.service.httpPort() + "/api/v1/search");
      await().atMost(Duration.ofSeconds(60)).until(() -> search(http, uri).statusCode() == 200);

      CompletableFuture<HttpResponse<String>> inFlight;
      CompletableFuture<Void> stopping;
      try (AutoCloseable held = fx.model.hold()) {
        inFlight = CompletableFuture.supplyAsync(() -> {
          try {
            return search(http, uri);
          } catch (Exception ex) {
            throw new IllegalStateException(ex);
          }
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> fx.model.heldCalls() == 1);
        stopping = CompletableFuture.runAsync(fx.host::close);
        // The stop is under way while the model still holds the search, longer than the 5 s search-api
        // once gave its searches whatever SERVICE_SHUTDOWN_TIMEOUT (20 s by default) said.
        Thread.sleep(6_000);
      }
      assertEquals(200, inFlight.get().statusCode(), "answered, not cut off by the stop");
      stopping.get();
    }
  }

  static HttpResponse<String> search(HttpClient http, URI uri) throws Exception {
    String image = Base64.getEncoder().encodeToString(TestImages.jpeg(64, 64, Color.WHITE, Color.RED));
    return http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + KEY)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"image_base64\":\"" + image + "\",\"k\":1}", StandardCharsets.UTF_8))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
