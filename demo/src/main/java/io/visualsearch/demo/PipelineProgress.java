package io.visualsearch.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * How far each ingest stage has got, read from search-api's health page JSON ({@code
 * /ops/health.json}), the numbers an SRE watching the page sees: records each stage has handled,
 * summed over its instances, as of their last heartbeat.
 */
final class PipelineProgress {

  static final List<String> STAGES = List.of("image-indexer", "embeddings-generator", "index-builder");

  private final URI healthJson;
  private final ObjectMapper json = new ObjectMapper();

  PipelineProgress(URI searchApi) {
    this.healthJson = searchApi.resolve("/ops/health.json");
  }

  /** "records handled: image-indexer 500, ..."; empty while the page has no heartbeat of a stage yet. */
  String line() {
    try {
      return format(handled(read()));
    } catch (IOException e) {
      return ""; // progress is a courtesy: the probe decides, and reports its own failures
    }
  }

  static Map<String, Long> handled(JsonNode page) {
    Map<String, Long> totals = new LinkedHashMap<>();
    STAGES.forEach(s -> totals.put(s, null));
    for (JsonNode instance : page.path("instances")) {
      String service = instance.path("service").asText();
      if (totals.containsKey(service)) {
        Long sum = totals.get(service);
        totals.put(service, (sum == null ? 0 : sum) + instance.path("activity_total").asLong());
      }
    }
    return totals;
  }

  static String format(Map<String, Long> handled) {
    if (handled.containsValue(null)) {
      return "";
    }
    return handled.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
        .collect(Collectors.joining(", ", "records handled: ", ""));
  }

  private JsonNode read() throws IOException {
    HttpURLConnection c = (HttpURLConnection) healthJson.toURL().openConnection();
    c.setConnectTimeout(2000);
    c.setReadTimeout(5000);
    try (InputStream in = c.getInputStream()) {
      return json.readTree(in);
    } finally {
      c.disconnect();
    }
  }
}
