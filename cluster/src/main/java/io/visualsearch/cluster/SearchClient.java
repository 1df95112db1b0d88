package io.visualsearch.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

/** The storefront's side of {@code POST /api/v1/search} (JSON body, Bearer key); nothing in-process. */
public final class SearchClient {

  /** One result row: what the reconciliation compares with the feed. */
  public record Hit(String sku, double score, String title, String price) {}

  /** {@code status} is the HTTP status; {@code error} is set when it is not 200. */
  public record Answer(int status, List<Hit> hits, String indexVersion, String error) {
    public boolean ok() {
      return status == 200;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
  private final URI base;

  public SearchClient(URI base) {
    this.base = base;
  }

  /** The JSON request body for an image; also what the load generator posts. */
  public static String body(byte[] image, int k) {
    return "{\"image_base64\":\"" + Base64.getEncoder().encodeToString(image) + "\",\"k\":" + k + "}";
  }

  public Answer search(String apiKey, byte[] image, int k) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(base.resolve("/api/v1/search"))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + apiKey)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body(image, k), StandardCharsets.UTF_8))
        .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    JsonNode root;
    try {
      root = JSON.readTree(response.body());
    } catch (IOException e) {
      return new Answer(response.statusCode(), List.of(), null, "unreadable body: " + e.getMessage());
    }
    if (response.statusCode() != 200) {
      return new Answer(response.statusCode(), List.of(), null,
          root.path("error").asText() + ": " + root.path("message").asText());
    }
    List<Hit> hits = new ArrayList<>();
    for (JsonNode h : root.path("results")) {
      hits.add(new Hit(h.path("sku").asText(), h.path("score").asDouble(), h.path("title").asText(),
          h.path("price").asText()));
    }
    return new Answer(200, hits, root.path("index_version").asText(), null);
  }
}
