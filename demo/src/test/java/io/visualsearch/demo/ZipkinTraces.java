package io.visualsearch.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Reads traces back from the real Zipkin server through its v2 API, as an SRE's tools do. */
final class ZipkinTraces {

  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private final String base;

  ZipkinTraces(String base) {
    this.base = base;
  }

  /** Traces with a span of {@code service} tagged with every {@code key=value} of {@code query}. */
  List<JsonNode> find(String service, String query) throws IOException, InterruptedException {
    String uri = base + "/api/v2/traces?limit=50&lookback=3600000&serviceName=" + enc(service)
        + "&annotationQuery=" + enc(query);
    JsonNode traces = get(uri);
    List<JsonNode> out = new ArrayList<>();
    traces.forEach(out::add);
    return out;
  }

  JsonNode trace(String traceId) throws IOException, InterruptedException {
    return get(base + "/api/v2/trace/" + traceId);
  }

  static Set<String> services(JsonNode trace) {
    Set<String> names = new HashSet<>();
    for (JsonNode span : trace) {
      names.add(span.path("localEndpoint").path("serviceName").asText());
    }
    return names;
  }

  /** The {@code key} tag of the trace's span named {@code spanName}, or null when it has none. */
  static String tag(JsonNode trace, String spanName, String key) {
    for (JsonNode span : trace) {
      if (span.path("name").asText().equals(spanName) && span.path("tags").has(key)) {
        return span.path("tags").path(key).asText();
      }
    }
    return null;
  }

  /** Span ids whose parent is not in the trace: a well-linked trace has exactly one, its root. */
  static List<String> orphans(JsonNode trace) {
    Set<String> ids = new HashSet<>();
    trace.forEach(s -> ids.add(s.path("id").asText()));
    List<String> orphans = new ArrayList<>();
    for (JsonNode span : trace) {
      String parent = span.path("parentId").asText("");
      if (parent.isEmpty() || !ids.contains(parent)) {
        orphans.add(span.path("localEndpoint").path("serviceName").asText() + ":" + span.path("name").asText());
      }
    }
    return orphans;
  }

  private JsonNode get(String uri) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(uri)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("zipkin answered " + r.statusCode() + " to " + uri + ": " + r.body());
    }
    return json.readTree(r.body());
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
