package io.visualsearch.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The operations endpoint every service exposes: {@code /healthz} (the process answers and no
 * component is {@link Component#wedged wedged}: the liveness probe), {@code /readyz} (every
 * component's check passes) and {@code /metrics} (Prometheus text).
 */
public final class OpsServer implements Component {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(OpsServer.class);

  private final String host;
  private final int requestedPort;
  private final PrometheusRegistry registry;
  private final Supplier<List<Component>> components;
  private final ExpositionFormats formats = ExpositionFormats.init();
  private final java.util.Map<String, com.sun.net.httpserver.HttpHandler> routes = new java.util.LinkedHashMap<>();
  private HttpServer server;
  private ExecutorService executor;

  /**
   * Adds an operator endpoint beside the health ones (e.g. a catalog-downloader's on-demand
   * sync); call before {@link #start()}.
   */
  public synchronized void route(String path, com.sun.net.httpserver.HttpHandler handler) {
    if (server != null) {
      throw new IllegalStateException("routes must be added before the ops server starts");
    }
    routes.put(path, handler);
  }

  public OpsServer(String host, int port, PrometheusRegistry registry, Supplier<List<Component>> components) {
    this.host = host;
    this.requestedPort = port;
    this.registry = registry;
    this.components = components;
  }

  @Override
  public String name() {
    return "ops-http";
  }

  @Override
  public synchronized void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(host, requestedPort), 16);
    executor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "ops-http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/healthz", this::live);
    server.createContext("/readyz", this::ready);
    server.createContext("/metrics", this::metrics);
    routes.forEach(server::createContext);
    server.start();
  }

  /** The bound port (useful when 0 asked for a free one). */
  public int port() {
    return server.getAddress().getPort();
  }

  private void live(HttpExchange ex) throws IOException {
    StringBuilder wedged = new StringBuilder();
    for (Component c : components.get()) {
      String why;
      try {
        why = c.wedged();
      } catch (RuntimeException e) {
        why = null; // a check that throws says nothing about being stuck; /readyz reports it
      }
      if (why != null) {
        wedged.append(c.name()).append(": ").append(why).append('\n');
      }
    }
    if (wedged.isEmpty()) {
      respond(ex, 200, "text/plain", "ok\n");
      return;
    }
    // Once a probe: the orchestrator restarts the process after a few, and this says why.
    log.error("not live, a restart is needed: {}", wedged.toString().strip().replace("\n", "; "));
    respond(ex, 503, "text/plain", "wedged\n" + wedged);
  }

  private void ready(HttpExchange ex) throws IOException {
    ReadinessReport report = ReadinessReport.of(components.get());
    respond(ex, report.ready() ? 200 : 503, "application/json", report.toJson());
  }

  private void metrics(HttpExchange ex) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    var writer = formats.getPrometheusTextFormatWriter();
    writer.write(out, registry.scrape());
    ExchangeReply.send(ex, 200, writer.getContentType(), out.toByteArray());
  }

  private static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
    ExchangeReply.send(ex, status, type + "; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public CheckResult check() {
    return server == null ? CheckResult.failed("not started") : CheckResult.OK;
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
      executor.shutdownNow();
    }
  }
}
