package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.awt.Color;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * More searches at once than admission lets in (running plus queued), with admission's capacity
 * above the request threads a fixed pool had: the surplus must reach admission and be refused
 * with 503 at once, not wait unseen in the HTTP server's own queue.
 */
@ExtendWith(StackExtension.class)
class ITOverload {

  static final String KEY = "acme-key-0123456789abcdef";
  static final int MAX_CONCURRENT = 2;
  /** Above the 64 request threads the HTTP server used to have, whatever admission allowed. */
  static final int MAX_QUEUED = 70;
  static final int SEARCHES = MAX_CONCURRENT + MAX_QUEUED + 10;

  final ObjectMapper json = new ObjectMapper();
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();

  @Test
  void searchesBeyondRunningAndQueuedAreRefusedWhileTheOthersWait(EmbeddedStack stack) throws Exception {
    // Queue timeout and model deadline far beyond the test: while the model is held, an answer can
    // only be admission's "queue full".
    try (StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "acme:" + KEY,
        "SEARCH_MAX_CONCURRENT", Integer.toString(MAX_CONCURRENT), "SEARCH_MAX_QUEUED", Integer.toString(MAX_QUEUED),
        "SEARCH_MAX_PER_TENANT", Integer.toString(SEARCHES), // one tenant, never held back on its own here
        "SEARCH_QUEUE_TIMEOUT", "10m", "MODEL_DEADLINE", "10m", "KAFKA_GROUP_ID", "it-overload"))) {
      Map<String, float[]> vectors = new LinkedHashMap<>();
      vectors.put("overload-0", fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.GREEN)));
      vectors.put("overload-1", fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.RED)));
      for (String sku : vectors.keySet()) {
        fx.upsertProduct("acme", sku, sku, "Apparel", 1_000_000L, "in stock");
      }
      fx.publication.publish("acme", "20250101T000001Z-v1", 1, vectors, 1, fx.embeddingsEnd());
      String base = "http://127.0.0.1:" + fx.startService().httpPort();
      await().atMost(Duration.ofSeconds(60)).until(() -> search(base).join().statusCode() == 200);

      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      try (AutoCloseable held = fx.model.hold()) {
        for (int i = 0; i < SEARCHES; i++) {
          answers.add(search(base));
        }
        // While the admitted searches wait for the held model, the rest are answered.
        await("the searches beyond running and queued answered while the model is held")
            .atMost(Duration.ofSeconds(60)).until(() -> answers.stream().filter(CompletableFuture::isDone).count()
            >= SEARCHES - MAX_CONCURRENT - MAX_QUEUED);
        for (CompletableFuture<HttpResponse<String>> f : answers) {
          if (f.isDone()) {
            HttpResponse<String> r = f.join();
            assertEquals(503, r.statusCode(), r.body());
            assertEquals("overloaded", json.readTree(r.body()).get("error").asText());
            assertTrue(r.headers().firstValue("Retry-After").isPresent());
          }
        }
      }
      long answered = answers.stream().map(CompletableFuture::join).filter(r -> r.statusCode() == 200).count();
      assertEquals(MAX_CONCURRENT + MAX_QUEUED, answered, "every admitted search completes once the model answers");
    }
  }

  CompletableFuture<HttpResponse<String>> search(String base) {
    try {
      return http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/api/v1/search"))
          .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(ITAdmission.requestBody())).timeout(Duration.ofMinutes(2))
          .build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
