package io.visualsearch.demo.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a query's time goes, read back from Zipkin after a run: the median duration of every span
 * name (per service) over the traces a service recorded. It reads what an SRE reads in the Zipkin
 * UI, aggregated, so a latency ratio comes with the stages that make it up.
 */
final class SpanBreakdown {

  private final URI zipkin;
  private final HttpClient http = HttpClient.newHttpClient();
  private final ObjectMapper json = new ObjectMapper();

  SpanBreakdown(String zipkinBaseUrl) {
    this.zipkin = URI.create(zipkinBaseUrl.endsWith("/") ? zipkinBaseUrl : zipkinBaseUrl + "/");
  }

  /** Medians (ms) keyed "service: span name", over up to {@code limit} recent traces of {@code service}. */
  Map<String, Percentiles> medians(String service, int limit) throws IOException, InterruptedException {
    URI uri = zipkin.resolve("api/v2/traces?serviceName=" + service + "&limit=" + limit + "&lookback=3600000");
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("zipkin answered " + r.statusCode() + " to " + uri);
    }
    Map<String, List<Double>> durations = new TreeMap<>();
    for (JsonNode trace : json.readTree(r.body())) {
      for (JsonNode span : trace) {
        String key = span.path("localEndpoint").path("serviceName").asText("?") + ": " + span.path("name").asText("?");
        durations.computeIfAbsent(key, k -> new ArrayList<>()).add(span.path("duration").asLong() / 1000.0);
      }
    }
    Map<String, Percentiles> out = new TreeMap<>();
    durations.forEach((k, v) -> out.put(k, new Percentiles(v.stream().mapToDouble(Double::doubleValue).toArray())));
    return out;
  }

  void print(String service, int limit) {
    try {
      Map<String, Percentiles> m = medians(service, limit);
      System.out.printf(Locale.ROOT, "span breakdown over the last %d traces through %s (Zipkin):%n", limit, service);
      System.out.printf(Locale.ROOT, "  %-60s %8s %8s%n", "span", "p50 ms", "p90 ms");
      m.forEach((k, p) -> System.out.printf(Locale.ROOT, "  %-60s %8.2f %8.2f%n", k, p.at(50), p.at(90)));
    } catch (IOException | RuntimeException e) {
      System.out.println("span breakdown unavailable: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
