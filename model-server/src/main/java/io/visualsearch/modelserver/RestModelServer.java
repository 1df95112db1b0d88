package io.visualsearch.modelserver;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.ExchangeReply;
import java.io.IOException;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST listener (TensorFlow Serving's port 8501) on the JDK's HTTP server: owns the socket,
 * the handler threads and their wait queue, the body-size limit, the heap budget for bodies being
 * decoded, a SERVER span per request (continuing a W3C or B3 context sent by the caller) and
 * request metrics; {@link RestApi} does the rest.
 */
public final class RestModelServer implements Component {

  private static final Logger log = LoggerFactory.getLogger(RestModelServer.class);

  private static final TextMapGetter<HttpExchange> HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(HttpExchange ex) {
      return ex.getRequestHeaders().keySet();
    }

    @Override
    public String get(HttpExchange ex, String key) {
      return ex == null ? null : ex.getRequestHeaders().getFirst(key);
    }
  };

  private final String bindAddress;
  private final int port;
  private final int threads;
  private final int maxWaiting;
  private final RestBodyReader bodies;
  private final BodyBudget budget;
  private final RestApi api;
  private final Tracer tracer;
  private final TextMapPropagator propagator;
  private final ModelServerMetrics metrics;
  private volatile HttpServer server;
  private volatile RestHandlerPool pool;

  RestModelServer(String bindAddress, int port, int maxBodyBytes, long bodyBudgetBytes, int threads, int maxWaiting,
      ModelServingService service, Tracer tracer, TextMapPropagator propagator, ModelServerMetrics metrics) {
    this.bindAddress = bindAddress;
    this.port = port;
    this.threads = threads;
    this.maxWaiting = maxWaiting;
    this.bodies = new RestBodyReader(maxBodyBytes);
    this.budget = new BodyBudget(bodyBudgetBytes);
    this.api = new RestApi(service);
    this.tracer = tracer;
    this.propagator = propagator;
    this.metrics = metrics;
    metrics.watch(budget);
  }

  @Override
  public String name() {
    return "rest(" + bindAddress + ":" + port + ")";
  }

  @Override
  public void start() throws IOException {
    pool = new RestHandlerPool(threads, maxWaiting);
    HttpServer s = HttpServer.create(new InetSocketAddress(bindAddress, port), 64);
    s.createContext("/", this::exchange);
    s.setExecutor(pool.executor());
    s.start();
    server = s;
  }

  public int port() {
    HttpServer s = server;
    if (s == null) {
      throw new IllegalStateException("not started");
    }
    return s.getAddress().getPort();
  }

  @Override
  public CheckResult check() {
    return server == null ? CheckResult.failed("REST server is not running") : CheckResult.OK;
  }

  private void exchange(HttpExchange ex) throws IOException {
    long start = System.nanoTime();
    String method = knownMethod(ex.getRequestMethod());
    String route = RestApi.route(ex.getRequestURI().getPath());
    Context parent = propagator.extract(Context.root(), ex, HEADERS);
    Span span = tracer.spanBuilder(method + " " + route).setParent(parent).setSpanKind(SpanKind.SERVER)
        .setAttribute("http.request.method", method).setAttribute("http.route", route)
        .setAttribute("url.path", ex.getRequestURI().getPath()).startSpan();
    int status = 500;
    boolean modelFault = false;
    try (Scope ignored = span.makeCurrent()) {
      RestApi.Reply reply = respond(ex);
      status = reply.status();
      modelFault = reply.modelFault();
    } finally {
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) {
        span.setStatus(StatusCode.ERROR);
      }
      span.end();
      metrics.request("rest", method + " " + route, Integer.toString(status), modelFault,
          System.nanoTime() - start);
    }
  }

  private static final java.util.Set<String> METHODS = java.util.Set.of("GET", "HEAD", "POST", "PUT", "DELETE",
      "CONNECT", "OPTIONS", "TRACE", "PATCH");

  /**
   * The method as a metric label and span name: HTTP's own methods, any other token {@code _OTHER}
   * (OpenTelemetry's name for it). The JDK server passes on whatever token a client sends, and a
   * series per invented method grew the metrics without bound.
   */
  static String knownMethod(String method) {
    return METHODS.contains(method) ? method : "_OTHER";
  }

  /** Handles one exchange and returns the reply sent (its body already written). */
  private RestApi.Reply respond(HttpExchange ex) throws IOException {
    try (ex) {
      RestApi.Reply reply;
      byte[] out;
      if (RestHandlerPool.overflowing()) {
        reply = api.error(503, "all REST handler threads are busy and " + maxWaiting
            + " requests are already waiting; retry later");
        out = api.mapper().writeValueAsBytes(reply.body());
      } else {
        // Held until the reply is serialised (the decoded tensors and the reply tree live that
        // long), not while a slow client reads it.
        try (BodyBudget.Lease lease = budget.lease()) {
          reply = handle(ex, lease);
          out = api.mapper().writeValueAsBytes(reply.body());
        }
      }
      ExchangeReply.send(ex, reply.status(), "application/json", out);
      return reply;
    }
  }

  private RestApi.Reply handle(HttpExchange ex, BodyBudget.Lease lease) throws IOException {
    try {
      byte[] body = bodies.read(ex.getRequestBody(), declaredLength(ex), lease);
      return api.handle(ex.getRequestMethod(), ex.getRequestURI().getPath(), body);
    } catch (RestBodyReader.Refused r) {
      return api.error(r.status, r.getMessage());
    } catch (RuntimeException e) {
      log.error("REST request {} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
      return api.error(500, "internal error: " + e.getClass().getSimpleName());
    }
  }

  /**
   * The body's declared length, or -1 when it is chunked. Without either header the JDK's server
   * reads no body, so that is 0.
   */
  private static long declaredLength(HttpExchange ex) {
    String encoding = ex.getRequestHeaders().getFirst("Transfer-Encoding");
    if (encoding != null && encoding.equalsIgnoreCase("chunked")) {
      return -1;
    }
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    try {
      return length == null ? 0 : Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      return 0; // the JDK's server has already refused such a request before calling the handler
    }
  }

  @Override
  public void close() {
    HttpServer s = server;
    if (s != null) {
      s.stop(1);
    }
    RestHandlerPool p = pool;
    if (p != null) {
      p.close();
    }
  }
}
