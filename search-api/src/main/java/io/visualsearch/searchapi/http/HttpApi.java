package io.visualsearch.searchapi.http;

import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.time.Duration;
import java.util.function.Supplier;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Owns the Jetty server of the storefront API: thread pool, connector, limits and lifecycle. What
 * each path does is {@link ApiRoutes}'s business.
 */
public final class HttpApi implements Component {

  /**
   * Threads beyond the admitted searches and Jetty's acceptors and selectors: the searches refused
   * with 503 (each needs a thread to be answered), uploads being read, the page, ops endpoints.
   */
  static final int HEADROOM_THREADS = 16;
  /**
   * Request threads no upload may take, whatever the tenants: probes, static files and similar
   * items are still answered while uploads of several leaked keys fill the rest.
   */
  static final int KEPT_FROM_UPLOADS = 4;
  private static final int MIN_THREADS = 4;
  private static final int REQUEST_HEADER_BYTES = 16 * 1024;
  private static final long IDLE_TIMEOUT_MS = 30_000;
  /**
   * How long a request line and its headers may take from their first byte. A browser or back end
   * sends them in one go, well under a second even on a phone link; only a client trickling them on
   * purpose (one byte before each idle timeout) needs longer. Not a setting: nobody needs to tune it.
   */
  static final Duration HEADER_DEADLINE = Duration.ofSeconds(10);

  private final String host;
  private final int requestedPort;
  private final ApiRoutes routes;
  private final int admittedSearches;
  private final Supplier<Duration> drainTimeLeft;
  private final int maxConnections;
  private final Duration headerDeadline;
  private Server server;
  private ServerConnector connector;

  /**
   * @param admittedSearches searches admission lets in at once, running and queued: each holds a
   *     request thread, so the pool has more, and the search after them reaches admission and is
   *     refused at once instead of waiting unseen in Jetty's queue
   * @param drainTimeLeft how long stopping may still wait for the searches in flight (the service's
   *     shutdown allowance, less what the stop has spent already)
   * @param maxConnections connections open at once; at the cap Jetty stops accepting until one
   *     closes, and the further ones wait in the kernel's accept queue
   */
  public HttpApi(String host, int port, ApiRoutes routes, int admittedSearches, Supplier<Duration> drainTimeLeft,
      int maxConnections) {
    this(host, port, routes, admittedSearches, drainTimeLeft, maxConnections, HEADER_DEADLINE);
  }

  /** With another header deadline: tests, which cannot wait ten seconds per trickle. */
  HttpApi(String host, int port, ApiRoutes routes, int admittedSearches, Supplier<Duration> drainTimeLeft,
      int maxConnections, Duration headerDeadline) {
    this.maxConnections = maxConnections;
    this.headerDeadline = headerDeadline;
    this.drainTimeLeft = drainTimeLeft;
    this.host = host;
    this.requestedPort = port;
    this.routes = routes;
    this.admittedSearches = admittedSearches;
  }

  @Override
  public String name() {
    return "http-api";
  }

  @Override
  public void start() throws Exception {
    QueuedThreadPool pool = new QueuedThreadPool();
    pool.setName("search-http");
    pool.setMinThreads(MIN_THREADS);
    server = new Server(pool);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendDateHeader(true);
    http.setRequestHeaderSize(REQUEST_HEADER_BYTES);
    // A SKU may hold '/' or '%' ("page/blue"): the page sends it encoded (%2F, %25) in
    // /api/v1/products/{sku}/similar, which Jetty refuses as ambiguous (400) by default. ApiRoutes
    // matches every route on the raw path and decodes only the SKU, so "/ops%2Fhealth" or
    // "/static%2Fapp.js" is no route (404), never the file or page it would decode to.
    http.setUriCompliance(UriCompliance.DEFAULT.with("DEFAULT+encoded SKU",
        UriCompliance.Violation.AMBIGUOUS_PATH_SEPARATOR, UriCompliance.Violation.AMBIGUOUS_PATH_ENCODING));
    connector = new ServerConnector(server, new HttpConnectionFactory(http));
    // Acceptors and selectors hold pool threads for good; size the rest from admission.
    pool.setMaxThreads(maxThreads(admittedSearches,
        connector.getAcceptors() + connector.getSelectorManager().getSelectorCount()));
    connector.setHost(host);
    connector.setPort(requestedPort);
    // A client that goes silent loses its connection. One byte restarts this timeout, so a trickling
    // upload is cut off by UploadReader's minimum pace instead (Jetty's own data-rate settings do
    // not do it in 12.1: see UploadReader).
    connector.setIdleTimeout(IDLE_TIMEOUT_MS);
    // ...and one trickling its request line and headers is closed by this deadline.
    connector.addBean(new HeaderDeadline(connector, headerDeadline));
    server.addConnector(connector);
    // Every connection holds a file descriptor and buffers whatever it does: tens of thousands of
    // idle or trickling ones ran the process out of them, for every tenant. Jetty's own limit counts
    // sockets as they are accepted and stops accepting at the cap.
    server.addBean(new NetworkConnectionLimit(maxConnections, connector));
    // Stopping waits (up to what is left of SERVICE_SHUTDOWN_TIMEOUT) for the searches in flight
    // instead of cutting them off; new connections are refused meanwhile.
    GracefulHandler graceful = new GracefulHandler();
    graceful.setHandler(routes);
    server.setHandler(graceful);
    server.setErrorHandler(new JsonErrorHandler());
    server.start();
  }

  /** The request threads uploads of all tenants together may hold, for that many admitted searches. */
  static int uploadPlaces(int admittedSearches) {
    return (int) Math.min(Integer.MAX_VALUE, (long) admittedSearches + HEADROOM_THREADS - KEPT_FROM_UPLOADS);
  }

  /** The request threads for that many admitted searches beside {@code leasedThreads} of Jetty's own. */
  static int maxThreads(int admittedSearches, int leasedThreads) {
    long n = (long) admittedSearches + leasedThreads + HEADROOM_THREADS;
    return (int) Math.min(Integer.MAX_VALUE, n);
  }

  /** The bound port (useful when 0 asked for a free one). */
  public int port() {
    return connector.getLocalPort();
  }

  @Override
  public CheckResult check() {
    return server != null && server.isStarted() ? CheckResult.OK : CheckResult.failed("not started");
  }

  @Override
  public void close() {
    if (server != null) {
      try {
        server.setStopTimeout(Math.max(1, drainTimeLeft.get().toMillis()));
        server.stop();
      } catch (Exception e) {
        throw new IllegalStateException("HTTP server did not stop cleanly", e);
      }
    }
  }
}
