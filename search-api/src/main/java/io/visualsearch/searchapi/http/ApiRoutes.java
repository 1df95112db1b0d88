package io.visualsearch.searchapi.http;

import io.visualsearch.healthboard.HealthPages;
import io.visualsearch.pipeline.Activity;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.runtime.ReadinessReport;
import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.EntrySpans;
import io.visualsearch.searchapi.FailureStreaks;
import io.visualsearch.searchapi.auth.Authenticator;
import io.visualsearch.searchapi.search.Answered;
import io.visualsearch.searchapi.search.Filters;
import io.visualsearch.searchapi.search.QueryService;
import io.visualsearch.searchapi.search.SearchAnswer;
import io.visualsearch.searchapi.search.SearchQuery;
import io.visualsearch.tracing.Tracing;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.URIUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each path of the storefront API does. API calls run inside a SERVER span that starts a
 * trace of ours, linked to the caller's {@code traceparent}/B3 span if it sent one
 * ({@link EntrySpans}); that trace's id goes back in the body, in the {@code X-Trace-Id} header and
 * in {@code traceparent}. Every failure is answered as {@code {"error","message"}} JSON.
 */
public final class ApiRoutes extends Handler.Abstract {

  private static final Logger log = LoggerFactory.getLogger(ApiRoutes.class);
  private static final String SEARCH = "/api/v1/search";
  /** The health page: its inline style and refresh only; no script, no framing, no form. */
  static final String HEALTH_PAGE_POLICY =
      "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  private static final String PRODUCTS = "/api/v1/products/";
  private static final String SIMILAR_SUFFIX = "/similar";
  private static final int MAX_SKU_CHARS = 256;
  /** Query parameters each API route reads; any other is refused, as an unknown body field is. */
  private static final java.util.Set<String> SEARCH_PARAMETERS = java.util.Set.of("tenant");
  private static final java.util.Set<String> SIMILAR_PARAMETERS = java.util.Set.of("k", "tenant", "category",
      "min_price", "max_price", "availability", "brand");

  private static final TextMapGetter<HttpFields> HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(HttpFields fields) {
      List<String> names = new ArrayList<>();
      fields.forEach(f -> names.add(f.getName()));
      return names;
    }

    @Override
    public String get(HttpFields fields, String key) {
      return fields == null ? null : fields.get(key);
    }
  };

  private final Authenticator auth;
  private final QueryService queries;
  private final SearchRequestParser parser;
  private final Admission admission;
  private final long maxBodyBytes;
  private final Tracing tracing;
  private final EntrySpans entrySpans;
  private final StaticFiles page;
  private final Supplier<ReadinessReport> readiness;
  private final HealthPages health;
  private final Activity activity;
  private final AnswerJson json = new AnswerJson();
  private final UploadReader uploads;
  private final Counter requests;
  private final Histogram latency;
  private final FailureStreaks failures;

  public ApiRoutes(Authenticator auth, QueryService queries, SearchRequestParser parser, Admission admission,
      long maxBodyBytes, Tracing tracing, StaticFiles page, Supplier<ReadinessReport> readiness,
      PrometheusRegistry registry, HealthPages health, Activity activity, UploadBudget bodies,
      FailureStreaks failures) {
    this.auth = auth;
    this.failures = failures;
    this.queries = queries;
    this.parser = parser;
    this.admission = admission;
    this.maxBodyBytes = maxBodyBytes;
    this.tracing = tracing;
    this.entrySpans = new EntrySpans(tracing);
    this.page = page;
    this.readiness = readiness;
    this.health = health;
    this.activity = activity;
    // All tenants' uploads together leave a few request threads to everything else (several leaked
    // storefront keys, each within its share, filled every thread); no tighter than that: a bound
    // of the admission's size refused another shopper's search while one upload trickled.
    this.uploads = new UploadReader(UploadPace.SHOPPERS, UploadReader.DRAIN_BUDGET, bodies,
        Admission.withoutQueue("uploads", HttpApi.uploadPlaces(admission.capacity()), admission.perTenant()));
    this.requests = Counter.builder().name("search_http_requests_total").help("API requests by route and status")
        .labelNames("route", "status").register(registry);
    this.latency = Histogram.builder().name("search_http_request_duration_seconds")
        .help("API request latency by route").labelNames("route").register(registry);
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    // The raw path, still percent-encoded: every route matches it as sent and only the SKU is
    // decoded, so an encoded '/' (which HttpApi lets through for SKUs) never separates segments.
    String path = request.getHttpURI().getPath();
    String method = request.getMethod();
    if (path == null) {
      path = "/";
    }
    if (path.equals(SEARCH)) {
      if (!method.equals("POST")) {
        response.getHeaders().put(HttpHeader.ALLOW, "POST");
        return error(response, callback, new ApiException(405, "method_not_allowed", "use POST"));
      }
      return api("search", request, response, callback, tenant -> search(tenant, request));
    }
    // "/api/v1/products/similar" has no sku between the two: an unknown path, not a crash.
    if (path.startsWith(PRODUCTS) && path.endsWith(SIMILAR_SUFFIX)
        && path.length() >= PRODUCTS.length() + SIMILAR_SUFFIX.length()) {
      if (!method.equals("GET")) {
        response.getHeaders().put(HttpHeader.ALLOW, "GET");
        return error(response, callback, new ApiException(405, "method_not_allowed", "use GET"));
      }
      String rawSku = path.substring(PRODUCTS.length(), path.length() - SIMILAR_SUFFIX.length());
      return api("similar", request, response, callback, tenant -> similar(tenant, rawSku, request));
    }
    if (!method.equals("GET") && !method.equals("HEAD")) {
      response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
      return error(response, callback, new ApiException(405, "method_not_allowed", "only GET is served here"));
    }
    switch (path) {
      case "/healthz" -> {
        return write(response, callback, 200, "text/plain; charset=utf-8", "ok\n".getBytes(StandardCharsets.UTF_8));
      }
      case "/readyz" -> {
        // The details (tenants served, their versions, the last load error) stay on OPS_PORT, and
        // so does /metrics: pod names, error and dead-letter counts by reason, the JVM's insides
        // are for the scraper, not for any visitor of the storefront's address.
        ReadinessReport r = readiness.get();
        return write(response, callback, r.ready() ? 200 : 503, "application/json; charset=utf-8",
            r.toSummaryJson().getBytes(StandardCharsets.UTF_8));
      }
      case "/ops/health" -> {
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        // Its rows come from service.health, which any producer of the pipeline can write: escaping
        // is one defence, this the second; and it is never framed by another site.
        response.getHeaders().put("Content-Security-Policy", HEALTH_PAGE_POLICY);
        return write(response, callback, 200, "text/html; charset=utf-8", health.html().getBytes(StandardCharsets.UTF_8));
      }
      case "/ops/health.json" -> {
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        return write(response, callback, 200, "application/json; charset=utf-8",
            health.json().getBytes(StandardCharsets.UTF_8));
      }
      default -> {
        StaticFiles.Asset asset = page.get(path);
        if (asset == null) {
          return error(response, callback, ApiException.notFound("not_found", "no such resource"));
        }
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        response.getHeaders().put("Content-Security-Policy", StaticFiles.CONTENT_SECURITY_POLICY);
        response.getHeaders().put(HttpHeader.ETAG, asset.etag());
        // A list may come over several header lines.
        if (asset.matches(String.join(",", request.getHeaders().getValuesList(HttpHeader.IF_NONE_MATCH)))) {
          // no-cache made every page load download the files again; now it is a 304 with no body.
          response.setStatus(304);
          response.getHeaders().put("X-Content-Type-Options", "nosniff");
          callback.succeeded();
          return true;
        }
        return write(response, callback, 200, asset.contentType(), asset.bytes());
      }
    }
  }

  @FunctionalInterface
  private interface TenantCall {
    Answered run(String tenant) throws Exception;
  }

  private boolean api(String route, Request request, Response response, Callback callback, TenantCall call) {
    long t0 = System.nanoTime();
    // Our own trace, linked to the caller's: a caller's sampled flag no longer decides what is recorded.
    Span span = entrySpans.rootLinkedToCaller(request.getMethod() + " " + route, request.getHeaders(), HEADERS)
        .setSpanKind(SpanKind.SERVER).setAttribute("http.request.method", request.getMethod())
        .setAttribute("http.route", route).startSpan();
    String traceId = span.getSpanContext().getTraceId();
    response.getHeaders().put("X-Trace-Id", traceId);
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    int status;
    boolean unexpected = false;
    try (Scope ignored = span.makeCurrent()) {
      tracing.propagator().inject(Context.current(), response.getHeaders(), (h, k, v) -> h.put(k, v));
      byte[] body;
      Answered answered = null;
      try {
        String tenant = auth.tenant(request.getHeaders().get(HttpHeader.AUTHORIZATION), requestedTenant(request));
        span.setAttribute("tenant", tenant);
        answered = call.run(tenant);
        SearchAnswer answer = answered.answer();
        span.setAttribute("results", answer.hits().size());
        span.setAttribute("index.version", answer.indexVersion());
        body = json.answer(answer, traceId, answered.requestId());
        if (answered.requestId() != null) {
          response.getHeaders().put("X-Request-Id", answered.requestId());
        }
        status = 200;
        failures.answered();
      } catch (ApiException e) {
        status = e.status();
        body = json.error(e);
        span.setAttribute("error.code", e.code());
        if (e.retryAfterSeconds() != null) {
          response.getHeaders().put(HttpHeader.RETRY_AFTER, Integer.toString(e.retryAfterSeconds()));
        }
        if (status == 401) {
          // Required on a 401; without it Java's own HTTP client, set up with an authenticator,
          // fails with an IOException and the caller never sees the error code.
          response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"visual-search\""
              + (e.code().equals("invalid_api_key") ? ", error=\"invalid_token\"" : ""));
        }
        if (status >= 500) {
          span.setStatus(StatusCode.ERROR, e.code());
          // Expected states (no index yet, overload) are counted in metrics; only a cause is news,
          // and only its streak's first (with its trace), not one per query of an outage.
          if (e.isServiceFault()) {
            unexpected = true;
            failures.failed(route, e);
          } else {
            log.debug("{} answered {} {}: {}", route, status, e.code(), e.getMessage());
          }
        }
      } catch (Exception e) {
        unexpected = true;
        status = 500;
        body = json.error("internal_error", "the search failed unexpectedly; trace " + traceId);
        span.recordException(e);
        span.setStatus(StatusCode.ERROR, "internal error");
        log.error("{} failed (trace {})", route, traceId, e);
      }
      span.setAttribute("http.response.status_code", status);
      requests.labelValues(route, Integer.toString(status)).inc();
      // The health page's activity for search-api is requests answered; its errors are failures
      // with a cause (a dependency broke, a bug), not expected refusals such as "no index yet".
      if (unexpected) {
        activity.recordError();
      } else {
        activity.recordActivity();
      }
      latency.labelValues(route).observe((System.nanoTime() - t0) / 1e9);
      if (status != 200) {
        discardUnreadBody(request);
      }
      boolean handled = write(response, callback, status, "application/json; charset=utf-8", body);
      if (answered != null && status == 200) {
        // The answer is in the socket (or queued for it): the shopper no longer waits for this.
        answered.afterSent().run();
      }
      return handled;
    } finally {
      span.end();
    }
  }

  /**
   * The upload is read and parsed before a search slot is taken: the slots are sized for model
   * work, and a shopper on a slow link (or one trickling bytes on purpose) would otherwise hold one
   * for the whole upload while every other search is refused.
   */
  private Answered search(String tenant, Request request) {
    knownParameters(request, SEARCH_PARAMETERS);
    byte[] body = readBody(tenant, request);
    String contentType = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    SearchQuery query = parser.parse(contentType, body);
    try (Admission.Permit ignored = admission.enter(tenant)) {
      return queries.search(tenant, query);
    }
  }

  private Answered similar(String tenant, String rawSku, Request request) {
    String sku;
    try {
      sku = URIUtil.decodePath(rawSku);
    } catch (RuntimeException e) {
      throw ApiException.badRequest("invalid_sku", "the sku in the path is not validly encoded");
    }
    if (sku.isEmpty() || sku.length() > MAX_SKU_CHARS || sku.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw ApiException.badRequest("invalid_sku", "the sku must be 1 to " + MAX_SKU_CHARS + " printable characters");
    }
    Fields params = knownParameters(request, SIMILAR_PARAMETERS);
    int k = parser.parseK(params.getValue("k"));
    Filters filters = SearchRequestParser.filters(params::getValue);
    QueryService.SimilarPlan plan = queries.planSimilar(tenant, sku, k, filters);
    if (!plan.live()) {
      return Answered.of(plan.file());
    }
    try (Admission.Permit ignored = admission.enter(tenant)) {
      return Answered.of(queries.liveSimilar(tenant, sku, k, filters, plan));
    }
  }

  /**
   * The query string's parameters; a badly encoded one ("?tenant=%C3") is the client's error, which
   * Jetty reports with an exception that was answered 500 and counted as a search-api failure.
   */
  private static Fields queryParameters(Request request) {
    try {
      return Request.extractQueryParameters(request);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw ApiException.badRequest("invalid_query", "the query string is not validly encoded: " + e.getMessage());
    }
  }

  /**
   * The query string's parameters, every one of them one the route reads: an unknown one
   * ({@code ?limit=5}, {@code ?max_price=50}) was ignored, and answered as if it held.
   */
  private static Fields knownParameters(Request request, java.util.Set<String> known) {
    Fields params = queryParameters(request);
    for (String name : params.getNames()) {
      if (!known.contains(name)) {
        throw SearchRequestParser.unknownField(name, known);
      }
    }
    return params;
  }

  /** The tenant a request names explicitly (?tenant= or X-Tenant), which must be the key's own. */
  private static String requestedTenant(Request request) {
    String header = request.getHeaders().get("X-Tenant");
    if (header != null) {
      return header.strip();
    }
    Fields params = queryParameters(request);
    return params.getValue("tenant");
  }

  private byte[] readBody(String tenant, Request request) {
    return uploads.read(request, tenant, maxBodyBytes);
  }

  private boolean error(Response response, Callback callback, ApiException e) {
    return write(response, callback, e.status(), "application/json; charset=utf-8", json.error(e));
  }

  /**
   * A request refused before its body was read (no key, bad field) still has its upload in flight;
   * closing under it makes the kernel reset the connection, often before the client has read our
   * JSON error. So a declared body of up to twice the upload cap is read and dropped first, for a
   * few seconds at most ({@link UploadReader#discard}): an upload a little over the cap gets its 413
   * every time, and a client without a key cannot hold a request thread by trickling its body.
   */
  private void discardUnreadBody(Request request) {
    uploads.discard(request, 2 * maxBodyBytes);
  }

  private static boolean write(Response response, Callback callback, int status, String type, byte[] body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    // Every answer is what its type says: no browser may sniff a JSON error or a script into HTML.
    response.getHeaders().put("X-Content-Type-Options", "nosniff");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, Long.toString(body.length));
    response.write(true, ByteBuffer.wrap(body), callback);
    return true;
  }
}
