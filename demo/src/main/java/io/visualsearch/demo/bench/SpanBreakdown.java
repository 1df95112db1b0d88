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
 * Where a call's time goes, read back from Zipkin after a run: the median and p90 duration of
 * every span name (per service) over the traces of the measured time window only, grouped by the
 * service that began each trace. The same model-server spans under search-api's queries and under
 * the benchmark's direct calls then stand side by side. It reads what an SRE reads in the Zipkin
 * UI, aggregated, so a latency ratio comes with the stages that make it up.
 */
final class SpanBreakdown {

  /** Spans of one name in one service, in traces begun by one service. */
  record Stage(String beganAt, String span) implements Comparable<Stage> {
    @Override
    public int compareTo(Stage o) {
      int c = beganAt.compareTo(o.beganAt);
      return c != 0 ? c : span.compareTo(o.span);
    }
  }

  private final URI zipkin;
  private final HttpClient http = HttpClient.newHttpClient();
  private final ObjectMapper json = new ObjectMapper();

  SpanBreakdown(String zipkinBaseUrl) {
    this.zipkin = URI.create(zipkinBaseUrl.endsWith("/") ? zipkinBaseUrl : zipkinBaseUrl + "/");
  }

  /**
   * Span durations (ms) of the traces {@code service} took part in whose first span started
   * within [{@code fromMillis}, {@code toMillis}] (epoch ms), at most {@code limit} traces.
   */
  Map<Stage, Percentiles> durations(String service, long fromMillis, long toMillis, int limit)
      throws IOException, InterruptedException {
    URI uri = zipkin.resolve("api/v2/traces?serviceName=" + service + "&endTs=" + toMillis
        + "&lookback=" + Math.max(1, toMillis - fromMillis) + "&limit=" + limit);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("zipkin answered " + r.statusCode() + " to " + uri);
    }
    Map<Stage, List<Double>> durations = new TreeMap<>();
    for (JsonNode trace : json.readTree(r.body())) {
      JsonNode first = null;
      for (JsonNode span : trace) {
        if (first == null || span.path("timestamp").asLong() < first.path("timestamp").asLong()) {
          first = span;
        }
      }
      if (first == null || first.path("timestamp").asLong() < fromMillis * 1000) {
        continue; // begun before the window (Zipkin matches a trace by any of its spans)
      }
      String beganAt = serviceOf(first);
      for (JsonNode span : trace) {
        Stage stage = new Stage(beganAt, serviceOf(span) + ": " + span.path("name").asText("?"));
        durations.computeIfAbsent(stage, k -> new ArrayList<>()).add(span.path("duration").asLong() / 1000.0);
      }
    }
    Map<Stage, Percentiles> out = new TreeMap<>();
    durations.forEach((k, v) -> out.put(k, new Percentiles(v.stream().mapToDouble(Double::doubleValue).toArray())));
    return out;
  }

  void print(String service, long fromMillis, long toMillis, int limit) {
    try {
      Map<Stage, Percentiles> m = durations(service, fromMillis, toMillis, limit);
      System.out.printf(Locale.ROOT, "span breakdown of the measured calls through %s (Zipkin), by the service each"
          + " trace began at:%n", service);
      System.out.printf(Locale.ROOT, "  %-14s %-58s %5s %8s %8s%n", "began at", "span", "n", "p50 ms", "p90 ms");
      m.forEach((k, p) -> System.out.printf(Locale.ROOT, "  %-14s %-58s %5d %8.2f %8.2f%n", k.beganAt(), k.span(),
          p.count(), p.at(50), p.at(90)));
    } catch (IOException | RuntimeException e) {
      System.out.println("span breakdown unavailable: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String serviceOf(JsonNode span) {
    return span.path("localEndpoint").path("serviceName").asText("?");
  }
}
