package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.runtime.OpsServer;
import io.visualsearch.searchapi.similar.SimilarItemsFile;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.tracing.Tracing;
import java.awt.Color;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * search-api against the real model server on a tiny SavedModel: which model versions answer a
 * query is the server's decision (the stand-in model server could only guess it), and an index
 * is searched only with vectors of its own version.
 */
@ExtendWith(StackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ITModelVersions {

  static final String KEY = "acme-key-0123456789abcdef";

  final ObjectMapper json = new ObjectMapper();
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  TinyModelServer models;
  StackFixture fx;
  Tracing tracing;
  /** Asks the model server, as search-api does, which version answers a query naming none. */
  ModelClient latest;
  String base;

  @BeforeAll
  void start(EmbeddedStack stack) throws Exception {
    models = new TinyModelServer();
    Map<String, String> env = new HashMap<>(models.env());
    env.putAll(Map.of("SEARCH_API_KEYS", "acme:" + KEY, "KAFKA_GROUP_ID", "it-model-versions"));
    fx = new StackFixture(stack, env);
    tracing = Tracing.create("it-model-probe", "it", fx.config);
    latest = new ModelClient(fx.config, tracing);
    latest.start();
    Map<String, float[]> vectors = new LinkedHashMap<>();
    Color[] colors = {Color.RED, Color.GREEN, Color.BLUE};
    for (int i = 0; i < colors.length; i++) {
      String sku = "versions-" + i;
      fx.upsertProduct("acme", sku, "shirt " + i, "Apparel > Shirts", 10_000_000L, "in stock");
      float[] e = fx.embed(TestImages.picture(64, 64, Color.WHITE, colors[i]));
      fx.sendEmbedding("acme", sku, e, 1);
      vectors.put(sku, e);
    }
    fx.publication.publish("acme", "20250101T000001Z-v1", 1, vectors, 1, fx.embeddingsEnd());
    fx.startService();
    base = "http://127.0.0.1:" + fx.service.httpPort();
    await().atMost(Duration.ofSeconds(60)).until(() -> search().statusCode() == 200);
  }

  @AfterAll
  void stop() throws Exception {
    if (latest != null) {
      latest.close();
      tracing.close();
    }
    if (fx != null) {
      fx.close();
    }
    if (models != null) {
      models.close();
    }
  }

  @Test
  @Order(1)
  void theIndexsVersionStillAnswersWhileANewerOneRollsOut() throws Exception {
    models.publish(2);
    await().atMost(Duration.ofSeconds(60)).until(() -> latestVersion() == 2);
    HttpResponse<String> r = search();
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("versions-0", json.readTree(r.body()).get("results").get(0).get("sku").asText(),
        "the red photo, embedded with the index's version 1, finds the red shirt");
  }

  @Test
  @Order(2)
  void aQueryFromAnotherModelVersionIsRefusedNotMixed() throws Exception {
    // Version 3 on disk: the server serves 3 and 2, no longer the index's 1.
    models.publish(3);
    await().atMost(Duration.ofSeconds(60)).until(() -> latestVersion() == 3);
    // Version 1 is retired once 3 is loaded; until then its queries are still answered.
    await().atMost(Duration.ofSeconds(60)).until(() -> search().statusCode() != 200);
    HttpResponse<String> r = search();
    assertEquals(503, r.statusCode(), r.body());
    assertEquals("model_index_mismatch", json.readTree(r.body()).get("error").asText());
    assertEquals("30", r.headers().firstValue("Retry-After").orElse(null), "longer than an outage's 2 s");
    // The model server answered: one catalog on a retired model version must not take the
    // instance out of rotation for every other catalog.
    HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, ready.statusCode(), ready.body());

    // Withdrawn again, version 1 is served once more and its index answers.
    models.withdraw(3);
    await().atMost(Duration.ofSeconds(60)).until(() -> search().statusCode() == 200);
  }

  @Test
  @Order(3)
  void aModelServerThatIsDownLeavesSearchApiReadyAndItsSearchesAnswer503() throws Exception {
    SimilarItemsFile similar = new SimilarItemsFile("acme", "versions-0", "20250101T000001Z-v1", 1, 0,
        List.of(new SimilarItemsFile.Item("versions-1", 0.9f), new SimilarItemsFile.Item("versions-2", 0.8f)));
    fx.store.put(SimilarItemsFile.key("acme", "versions-0"), json.writeValueAsBytes(similar), "application/json");
    // Every replica shares the model server: a restart of it must not empty the Service.
    models.close();
    models = null;

    HttpResponse<String> r = search();
    assertEquals(503, r.statusCode(), r.body());
    assertEquals("model_unavailable", json.readTree(r.body()).get("error").asText());
    assertEquals("2", r.headers().firstValue("Retry-After").orElse(null));

    HttpResponse<String> ready = get(base + "/readyz");
    assertEquals(200, ready.statusCode(), ready.body());
    int opsPort = fx.host.components().stream().filter(c -> c instanceof OpsServer)
        .mapToInt(c -> ((OpsServer) c).port()).findFirst().orElseThrow();
    HttpResponse<String> ops = get("http://127.0.0.1:" + opsPort + "/readyz");
    assertEquals(200, ops.statusCode(), ops.body());
    JsonNode modelCheck = json.readTree(ops.body()).get("checks").get("model-client");
    assertNotNull(modelCheck, ops.body());
    assertFalse(modelCheck.get("ok").asBoolean(), ops.body());
    assertTrue(modelCheck.get("detail").asText().contains("UNAVAILABLE"), ops.body());
    assertFalse(modelCheck.get("gates_readiness").asBoolean(), ops.body());

    HttpResponse<String> items = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/products/versions-0/similar?k=2"))
        .header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, items.statusCode(), items.body());
    assertEquals("versions-1", json.readTree(items.body()).get("results").get(0).get("sku").asText());
  }

  HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
  }

  long latestVersion() throws Exception {
    return latest.embed(List.of(TestImages.picture(32, 32, Color.WHITE, Color.RED))).modelVersion();
  }

  HttpResponse<String> search() throws Exception {
    String image = Base64.getEncoder().encodeToString(TestImages.jpeg(64, 64, Color.WHITE, Color.RED));
    return http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/search"))
        .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"image_base64\":\"" + image + "\",\"k\":3}",
            StandardCharsets.UTF_8)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
