package io.visualsearch.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** A storefront's view of search-api: the public JSON API, nothing in-process. */
public final class SearchClient {

  /** One answer row, as the public API returns it. */
  public record Hit(String sku, double score, String title, String price, String link, String imageLink,
      String category) {}

  /** A whole answer; {@code status} is the HTTP status, {@code error} set when it is not 200. */
  public record Answer(int status, List<Hit> results, String indexVersion, long modelVersion, String traceId,
      String error) {
    public boolean ok() {
      return status == 200;
    }
  }

  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final URI base;
  private final String apiKey;

  public SearchClient(URI base, String apiKey) {
    this.base = base;
    this.apiKey = apiKey;
  }

  public Answer search(byte[] image, int k) throws IOException, InterruptedException {
    ObjectNode body = json.createObjectNode();
    body.put("image_base64", Base64.getEncoder().encodeToString(image));
    body.put("k", k);
    HttpRequest request = HttpRequest.newBuilder(base.resolve("/api/v1/search"))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + apiKey)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body), StandardCharsets.UTF_8))
        .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    JsonNode root = json.readTree(response.body());
    if (response.statusCode() != 200) {
      return new Answer(response.statusCode(), List.of(), null, 0, null,
          root.path("error").asText() + ": " + root.path("message").asText());
    }
    List<Hit> hits = new ArrayList<>();
    for (JsonNode h : root.path("results")) {
      hits.add(new Hit(h.path("sku").asText(), h.path("score").asDouble(), h.path("title").asText(),
          h.path("price").asText(), h.path("link").asText(), h.path("image_link").asText(),
          h.path("category").asText()));
    }
    return new Answer(200, hits, root.path("index_version").asText(), root.path("model_version").asLong(),
        root.path("trace_id").asText(), null);
  }
}
