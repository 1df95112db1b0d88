package io.visualsearch.searchapi.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.runtime.ReadinessReport;
import io.visualsearch.searchapi.FailureStreaks;
import io.visualsearch.searchapi.auth.ApiKeys;
import io.visualsearch.searchapi.auth.Authenticator;
import io.visualsearch.tracing.Tracing;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A query parameter the route does not read is refused: {@code ?limit=5} or {@code ?max_price=50}
 * was ignored, and answered as if it held. There is no query path here (the service is null), so
 * a request that passes the check fails later, never with {@code unknown_field}.
 */
class QueryParametersTest {

  static final String KEY = "acme-key-0123456789abcdef";

  final ObjectMapper json = new ObjectMapper();
  Tracing tracing;
  HttpApi api;

  @BeforeEach
  void start() throws Exception {
    tracing = Tracing.withExporter("search-api", SpanExporter.composite());
    Admission admission = new Admission(4, 4, 4, Duration.ofSeconds(1));
    ApiRoutes routes = new ApiRoutes(new Authenticator(ApiKeys.parse(List.of("acme:" + KEY))),
        null, new SearchRequestParser(1 << 20, 10), admission, 1 << 20, tracing, null,
        () -> ReadinessReport.of(List.of()), new PrometheusRegistry(), null, new Activity(new PrometheusRegistry()),
        new UploadBudget(64L << 20), new FailureStreaks(LoggerFactory.getLogger(QueryParametersTest.class)));
    api = new HttpApi("127.0.0.1", 0, routes, admission.capacity(), () -> Duration.ofSeconds(1), 64);
    api.start();
  }

  @AfterEach
  void stop() throws Exception {
    api.close();
    tracing.close();
  }

  /** Status and JSON body of one request on a connection of its own (none left open for the stop). */
  record Answer(int status, JsonNode body) { }

  Answer send(String method, String pathAndQuery) throws Exception {
    String body = method.equals("POST") ? "{\"image_base64\":\"AAAA\"}" : "";
    String raw = SocketClient.exchange(api.port(), method + " " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Authorization: Bearer " + KEY + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
        + "\r\nConnection: close\r\n\r\n" + body);
    int status = Integer.parseInt(raw.substring(9, 12));
    return new Answer(status, json.readTree(raw.substring(raw.indexOf("\r\n\r\n") + 4)));
  }

  @Test
  void anUnknownQueryParameterIsRefusedNamingIt() throws Exception {
    for (String[] c : new String[][] {{"GET", "/api/v1/products/a/similar?k=2&limit=5", "limit"},
        {"GET", "/api/v1/products/a/similar?maxPrice=50", "maxPrice"},
        {"POST", "/api/v1/search?k=5", "k"}, {"POST", "/api/v1/search?tenant=acme&max_price=50", "max_price"}}) {
      Answer r = send(c[0], c[1]);
      assertEquals(400, r.status(), c[1] + ": " + r.body());
      assertEquals("unknown_field", r.body().get("error").asText(), c[1]);
      assertTrue(r.body().get("message").asText().contains("'" + c[2] + "'"), r.body().toString());
    }
  }

  @Test
  void theParametersEachRouteReadsPass() throws Exception {
    // The storefront page's "?k=", and "?tenant=" naming the key's own tenant.
    for (String[] c : new String[][] {{"GET", "/api/v1/products/a/similar?k=12"},
        {"GET", "/api/v1/products/a/similar?k=2&tenant=acme"}, {"POST", "/api/v1/search?tenant=acme"},
        // Similar items take the search's filters, named as its multipart fields.
        {"GET", "/api/v1/products/a/similar?availability=in_stock&max_price=50&min_price=5&category=Shoes&brand=Acme"}}) {
      Answer r = send(c[0], c[1]);
      assertNotEquals(400, r.status(), c[1] + ": " + r.body());
    }
  }

  @Test
  void similarItemsFiltersAreCheckedAsTheSearchsAre() throws Exception {
    for (String[] c : new String[][] {{"/api/v1/products/a/similar?availability=sold", "invalid_availability"},
        {"/api/v1/products/a/similar?max_price=cheap", "invalid_max_price"},
        {"/api/v1/products/a/similar?min_price=9&max_price=5", "invalid_filters"}}) {
      Answer r = send("GET", c[0]);
      assertEquals(400, r.status(), c[0] + ": " + r.body());
      assertEquals(c[1], r.body().get("error").asText(), c[0]);
    }
  }
}
