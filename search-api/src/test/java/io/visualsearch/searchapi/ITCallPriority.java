package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.visualsearch.imagevalidation.NormalisedImage;
import io.visualsearch.indexformat.Sha256;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.awt.Color;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What search-api tells the model server about its calls: a shopper's search goes as interactive
 * (run before the catalog's queued images), the stand-in vectors it embeds itself during a model
 * rollout go as catalog work, behind the queries.
 */
@ExtendWith(StackExtension.class)
class ITCallPriority {

  static final String KEY = "prio-key-0123456789abcdef";

  @Test
  void searchesGoAsInteractiveAndRolloutStandInsAsCatalogWork(EmbeddedStack stack) throws Exception {
    try (StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "prio:" + KEY,
        "KAFKA_GROUP_ID", "it-priority"))) {
      fx.upsertProduct("prio", "prio-red", "Red shirt", "Shirts", 5_000_000L, "in stock");
      fx.upsertProduct("prio", "prio-new", "New shirt", "Shirts", 6_000_000L, "in stock");
      fx.publication.publish("prio", "20250107T000000Z-p1", 1,
          Map.of("prio-red", fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.RED))), 1, fx.embeddingsEnd());
      SearchApiService service = fx.startService();
      String base = "http://127.0.0.1:" + service.httpPort();
      HttpClient http = HttpClient.newHttpClient();
      await().atMost(Duration.ofSeconds(60)).until(() -> search(http, base) == 200);
      int before = fx.model.priorities().size();
      assertEquals(200, search(http, base));
      assertEquals(List.of("interactive"), fx.model.priorities().subList(before, fx.model.priorities().size()),
          "a shopper's search");

      // A model rollout: a new product's vector is of version 2, which the served index (1) cannot
      // search; search-api embeds its stored picture with version 1 meanwhile.
      byte[] png = TestImages.png(64, 64, Color.WHITE, Color.BLUE);
      String sha = Sha256.hex(png);
      fx.store.put(NormalisedImage.objectKey(sha), png, NormalisedImage.CONTENT_TYPE);
      int beforeStandIn = fx.model.priorities().size();
      float[] ofVersion2 = new float[FakeModelServer.DIM];
      java.util.Arrays.fill(ofVersion2, 0.5f);
      fx.sendEmbedding("prio", "prio-new", ofVersion2, 2, sha);
      await().atMost(Duration.ofSeconds(60)).until(() -> fx.model.priorities().size() > beforeStandIn);
      assertEquals("", fx.model.priorities().get(beforeStandIn), "the stand-in goes as catalog work");
    }
  }

  static int search(HttpClient http, String base) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/search"))
        .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(ITAdmission.requestBody())).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
