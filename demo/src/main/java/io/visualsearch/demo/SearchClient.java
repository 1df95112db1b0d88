package io.visualsearch.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A storefront's view of search-api: the public JSON API, nothing in-process. Requests go out on
 * the calling thread over a kept-alive {@link HttpURLConnection}: {@code java.net.http.HttpClient}
 * hands every exchange to its selector thread and back, which on two busy cores added about a
 * millisecond to each measured query (see {@code demo/README.md}). The body is given whole, not
 * streamed: before a streamed POST on a kept-alive connection the JDK probes the connection with a
 * blocking read of 1 ms timeout, which added 1.2 ms to every query (p50 1.39 vs 0.18 ms for a
 * refused 1.4 KB POST, one after the other against the demo, 2026-12-05); a query body is at most
 * the upload cap, already in memory.
 */
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
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

  private final URI base;
  private final String apiKey;

  public SearchClient(URI base, String apiKey) {
    this.base = base;
    this.apiKey = apiKey;
  }

  public Answer search(byte[] image, int k) throws IOException {
    ObjectNode body = json.createObjectNode();
    body.put("image_base64", Base64.getEncoder().encodeToString(image));
    body.put("k", k);
    byte[] requestBody = json.writeValueAsBytes(body);
    URL url = base.resolve("/api/v1/search").toURL();
    HttpURLConnection c = (HttpURLConnection) url.openConnection();
    int status;
    byte[] responseBody;
    try {
      c.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
      c.setReadTimeout((int) READ_TIMEOUT.toMillis());
      c.setRequestMethod("POST");
      c.setRequestProperty("Authorization", "Bearer " + apiKey);
      c.setRequestProperty("Content-Type", "application/json");
      c.setDoOutput(true);
      try (OutputStream out = c.getOutputStream()) {
        out.write(requestBody);
      }
      status = c.getResponseCode();
      // Reading the body to its end and closing the stream returns the connection to the JDK's
      // keep-alive cache; an error body is read the same way so errors do not cost a reconnect.
      try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
        responseBody = in == null ? new byte[0] : in.readAllBytes();
      }
    } catch (IOException e) {
      c.disconnect();
      throw e;
    }
    JsonNode root = responseBody.length == 0 ? json.createObjectNode() : json.readTree(responseBody);
    if (status != 200) {
      return new Answer(status, List.of(), null, 0, null,
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
