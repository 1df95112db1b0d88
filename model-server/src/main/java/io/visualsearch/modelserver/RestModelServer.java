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
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST listener (TensorFlow Serving's port 8501) on the JDK's HTTP server: owns the socket,
 * the handler threads, the body-size limit, a SERVER span per request (continuing a W3C or B3
 * context sent by the caller) and request metrics; {@link RestApi} does the rest.
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
  private final int maxBodyBytes;
  private final int threads;
  private final RestApi api;
  private final Tracer tracer;
  private final TextMapPropagator propagator;
  private final ModelServerMetrics metrics;
  private volatile HttpServer server;
  private volatile ExecutorService executor;

  RestModelServer(String bindAddress, int port, int maxBodyBytes, int threads, ModelServingService service,
      Tracer tracer, TextMapPropagator propagator, ModelServerMetrics metrics) {
    this.bindAddress = bindAddress;
    this.port = port;
    this.maxBodyBytes = maxBodyBytes;
    this.threads = threads;
    this.api = new RestApi(service);
    this.tracer = tracer;
    this.propagator = propagator;
    this.metrics = metrics;
  }

  @Override
  public String name() {
    return "rest(" + bindAddress + ":" + port + ")";
  }

  @Override
  public void start() throws IOException {
    AtomicInteger n = new AtomicInteger();
    executor = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "model-rest-" + n.getAndIncrement());
      t.setDaemon(true);
      return t;
    });
    HttpServer s = HttpServer.create(new InetSocketAddress(bindAddress, port), 64);
    s.createContext("/", this::exchange);
    s.setExecutor(executor);
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
    String method = ex.getRequestMethod();
    String route = RestApi.route(ex.getRequestURI().getPath());
    Context parent = propagator.extract(Context.root(), ex, HEADERS);
    Span span = tracer.spanBuilder(method + " " + route).setParent(parent).setSpanKind(SpanKind.SERVER)
        .setAttribute("http.request.method", method).setAttribute("http.route", route)
        .setAttribute("url.path", ex.getRequestURI().getPath()).startSpan();
    int status = 500;
    try (Scope ignored = span.makeCurrent()) {
      status = respond(ex);
    } finally {
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) {
        span.setStatus(StatusCode.ERROR);
      }
      span.end();
      metrics.request("rest", method + " " + route, Integer.toString(status), System.nanoTime() - start);
    }
  }

  /** Handles one exchange and returns the status sent. */
  private int respond(HttpExchange ex) throws IOException {
    try (ex) {
      RestApi.Reply reply;
      byte[] body = readBody(ex.getRequestBody());
      if (body == null) {
        reply = api.error(413, "request body exceeds " + maxBodyBytes + " bytes");
      } else {
        try {
          reply = api.handle(ex.getRequestMethod(), ex.getRequestURI().getPath(), body);
        } catch (RuntimeException e) {
          log.error("REST request {} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
          reply = api.error(500, "internal error: " + e.getClass().getSimpleName());
        }
      }
      byte[] out = api.mapper().writeValueAsBytes(reply.body());
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(reply.status(), out.length);
      try (OutputStream os = ex.getResponseBody()) {
        os.write(out);
      }
      return reply.status();
    }
  }

  /** The body, or null when it is larger than allowed (read no further than the limit). */
  private byte[] readBody(InputStream in) throws IOException {
    byte[] data = in.readNBytes(maxBodyBytes + 1);
    return data.length > maxBodyBytes ? null : data;
  }

  @Override
  public void close() {
    HttpServer s = server;
    if (s != null) {
      s.stop(1);
    }
    ExecutorService e = executor;
    if (e != null) {
      e.shutdown();
      try {
        if (!e.awaitTermination(10, TimeUnit.SECONDS)) {
          e.shutdownNow();
        }
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        e.shutdownNow();
      }
    }
  }
}
