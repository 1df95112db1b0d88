package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.searchapi.http.UploadBudget;
import io.visualsearch.searchapi.similar.SimilarItemsFile;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.awt.Color;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * search-api with one search slot and no queue: a search beyond capacity is refused at once with
 * 503 and Retry-After, and a slow upload does not occupy the slot while its bytes arrive.
 */
@ExtendWith(StackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ITAdmission {

  static final String KEY = "acme-key-0123456789abcdef";

  final ObjectMapper json = new ObjectMapper();
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  StackFixture fx;
  int port;

  @BeforeAll
  void start(EmbeddedStack stack) throws Exception {
    fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "acme:" + KEY, "SEARCH_MAX_CONCURRENT", "1",
        "SEARCH_MAX_QUEUED", "0", "KAFKA_GROUP_ID", "it-admission"));
    Map<String, float[]> vectors = new LinkedHashMap<>();
    Color[] colors = {Color.RED, Color.GREEN, Color.BLUE};
    for (int i = 0; i < colors.length; i++) {
      String sku = "admission-" + i;
      fx.upsertProduct("acme", sku, "shirt " + i, "Apparel > Shirts", 10_000_000L, "in stock");
      float[] e = fx.embed(TestImages.picture(64, 64, Color.WHITE, colors[i]));
      fx.sendEmbedding("acme", sku, e, 1);
      vectors.put(sku, e);
    }
    fx.publication.publish("acme", "20250101T000001Z-v1", 1, vectors, 1, fx.embeddingsEnd());
    fx.startService();
    port = fx.service.httpPort();
    await().atMost(Duration.ofSeconds(60)).until(() -> search().statusCode() == 200);
  }

  @AfterAll
  void stop() throws Exception {
    if (fx != null) {
      fx.close();
    }
  }

  @Test
  void aSearchBeyondCapacityIsRefusedAtOnceWithRetryAfter() throws Exception {
    CompletableFuture<HttpResponse<String>> first;
    try (AutoCloseable held = fx.model.hold()) {
      first = searchHoldingTheOnlySlot();
      HttpResponse<String> refused = search();
      assertEquals(503, refused.statusCode(), refused.body());
      assertEquals("overloaded", json.readTree(refused.body()).get("error").asText());
      assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
    }
    assertEquals(200, first.get().statusCode(), "the admitted search completes once the model answers");
    assertEquals(200, search().statusCode(), "the slot is free again");
  }

  /**
   * Precomputed similar items are a read of the store, not a search: product pages keep their
   * answers while every search slot is busy, and a slow store would not take the slots either.
   */
  @Test
  void precomputedSimilarItemsAreAnsweredWhileEverySearchSlotIsTaken() throws Exception {
    fx.store.put(SimilarItemsFile.key("acme", "admission-0"), json.writeValueAsBytes(new SimilarItemsFile("acme",
        "admission-0", "20250101T000001Z-v1", 1, System.currentTimeMillis(),
        List.of(new SimilarItemsFile.Item("admission-1", 0.9f)))), "application/json");
    CompletableFuture<HttpResponse<String>> first;
    try (AutoCloseable held = fx.model.hold()) {
      first = searchHoldingTheOnlySlot();
      HttpResponse<String> similar = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + port + "/api/v1/products/admission-0/similar"))
          .header("Authorization", "Bearer " + KEY).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, similar.statusCode(), similar.body());
      assertEquals("admission-1", json.readTree(similar.body()).get("results").get(0).get("sku").asText());
    }
    assertEquals(200, first.get().statusCode());
  }

  @Test
  void aSlowUploadDoesNotHoldTheSearchSlotWhileItsBytesArrive() throws Exception {
    byte[] body = requestBody();
    try (Socket slow = new Socket(InetAddress.getLoopbackAddress(), port)) {
      OutputStream out = slow.getOutputStream();
      out.write(("POST /api/v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + KEY
          + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.write(body, 0, body.length / 2);
      out.flush();
      // The server reserves the body's heap once it has taken the request and before it reads a
      // byte of the body: from then on, a slot taken for the upload would be taken.
      await().atMost(Duration.ofSeconds(30)).until(() -> uploadReservedBytes() >= UploadBudget.costOf(body.length));
      HttpResponse<String> other = search();
      assertEquals(200, other.statusCode(), "another shopper's search while an upload trickles: " + other.body());

      out.write(body, body.length / 2, body.length - body.length / 2);
      out.flush();
      String status = new String(slow.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
      assertEquals("HTTP/1.1 200", status, "the slow upload is answered once complete");
    }
  }

  /** A search that has taken the only slot and waits there for the held model. */
  CompletableFuture<HttpResponse<String>> searchHoldingTheOnlySlot() {
    CompletableFuture<HttpResponse<String>> running = CompletableFuture.supplyAsync(() -> {
      try {
        return search();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> fx.model.heldCalls() == 1);
    return running;
  }

  /** The heap request bodies hold now, from /metrics. */
  double uploadReservedBytes() throws Exception {
    String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fx.service.opsPort() + "/metrics"))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).body();
    return metrics.lines().filter(l -> l.startsWith("search_upload_reserved_bytes "))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst()
        .orElseThrow(() -> new AssertionError("no search_upload_reserved_bytes in /metrics"));
  }

  HttpResponse<String> search() throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/search"))
        .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(requestBody())).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static byte[] requestBody() throws Exception {
    String image = Base64.getEncoder().encodeToString(TestImages.jpeg(64, 64, Color.WHITE, Color.GREEN));
    return ("{\"image_base64\":\"" + image + "\",\"k\":2}").getBytes(StandardCharsets.UTF_8);
  }
}
