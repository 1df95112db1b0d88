package io.visualsearch.imagefetch;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on 127.0.0.1 with well-behaved and hostile endpoints: slow trickle, stall,
 * redirect loops and chains, redirects to private addresses, flaky 5xx, 429, oversized bodies.
 * Counts hits per path so tests can assert what was (not) requested.
 */
final class HostileServer implements AutoCloseable {

  static final byte[] IMAGE = "\u0089PNG fake image bytes".getBytes(StandardCharsets.ISO_8859_1);
  static final String ETAG = "\"v1\"";
  static final String LAST_MODIFIED = "Tue, 01 Apr 2025 10:00:00 GMT";

  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();

  HostileServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 64);
    server.setExecutor(threads);
    server.createContext("/", this::route);
    server.start();
  }

  URI url(String path) {
    return URI.create("http://127.0.0.1:" + port() + path);
  }

  int port() {
    return server.getAddress().getPort();
  }

  int hits(String path) {
    AtomicInteger n = hits.get(path);
    return n == null ? 0 : n.get();
  }

  int totalHits() {
    return hits.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  int maxInFlight() {
    return maxInFlight.get();
  }

  private void route(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    int hit = hits.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
    try (ex) {
      switch (path) {
        case "/ok.png" -> {
          ex.getResponseHeaders().add("ETag", ETAG);
          ex.getResponseHeaders().add("Last-Modified", LAST_MODIFIED);
          if (ETAG.equals(ex.getRequestHeaders().getFirst("If-None-Match"))
              || LAST_MODIFIED.equals(ex.getRequestHeaders().getFirst("If-Modified-Since"))) {
            ex.sendResponseHeaders(304, -1);
            return;
          }
          send(ex, 200, "image/png", IMAGE);
        }
        case "/trickle" -> {
          // Declares a modest body, then sends one byte every 50 ms: never silent long enough for
          // a read timeout, but would take ~10 minutes to finish.
          ex.getResponseHeaders().add("Content-Type", "image/jpeg");
          ex.sendResponseHeaders(200, 12_000);
          OutputStream out = ex.getResponseBody();
          for (int i = 0; i < 12_000; i++) {
            out.write(0x42);
            out.flush();
            sleep(50);
          }
        }
        case "/stall" -> {
          ex.sendResponseHeaders(200, 1000);
          ex.getResponseBody().write(new byte[10]);
          ex.getResponseBody().flush();
          sleep(30_000);
        }
        case "/loop-a" -> redirect(ex, "/loop-b");
        case "/loop-b" -> redirect(ex, "/loop-a");
        case "/hop" -> redirect(ex, "/hop2");
        case "/redirect-to" -> redirect(ex, ex.getRequestURI().getRawQuery()); // the query is the Location
        case "/hop2" -> redirect(ex, "http://127.0.0.1:" + port() + "/ok.png");
        case "/to-metadata" -> redirect(ex, "http://169.254.169.254/latest/meta-data/iam/");
        case "/to-private" -> redirect(ex, "http://10.0.0.5/internal.png");
        case "/to-loopback-alias" -> redirect(ex, "http://127.0.0.2:" + port() + "/ok.png");
        case "/to-file" -> redirect(ex, "file:///etc/passwd");
        case "/flaky" -> {
          if (hit < 3) {
            send(ex, 503, "text/plain", "busy".getBytes(StandardCharsets.UTF_8));
          } else {
            send(ex, 200, "image/png", IMAGE);
          }
        }
        case "/cut-short" -> {
          // The first answer declares 1,000 bytes and ends the connection after 10.
          ex.sendResponseHeaders(200, hit == 1 ? 1000 : IMAGE.length);
          ex.getResponseBody().write(hit == 1 ? new byte[10] : IMAGE);
        }
        case "/408-once" -> {
          if (hit == 1) {
            send(ex, 408, "text/plain", "request timeout".getBytes(StandardCharsets.UTF_8));
          } else {
            send(ex, 200, "image/png", IMAGE);
          }
        }
        case "/always-304" -> ex.sendResponseHeaders(304, -1); // whatever the request asked
        case "/unavailable-endless" -> {
          // A 503 whose error page never ends: chunked, 8 KB at a time until the client hangs up.
          ex.sendResponseHeaders(503, 0);
          OutputStream out = ex.getResponseBody();
          byte[] block = new byte[8 * 1024];
          for (long end = System.nanoTime() + 60_000_000_000L; System.nanoTime() < end; ) {
            out.write(block);
          }
        }
        case "/always-500" -> send(ex, 500, "text/plain", "boom".getBytes(StandardCharsets.UTF_8));
        case "/rate-limited" -> {
          if (hit == 1) {
            ex.getResponseHeaders().add("Retry-After", "0");
            send(ex, 429, "text/plain", "slow down".getBytes(StandardCharsets.UTF_8));
          } else {
            send(ex, 200, "image/png", IMAGE);
          }
        }
        case "/missing" -> send(ex, 404, "text/html", "<html>404</html>".getBytes(StandardCharsets.UTF_8));
        case "/forbidden" -> send(ex, 403, "text/html", "<html>403</html>".getBytes(StandardCharsets.UTF_8));
        case "/big-chunked" -> {
          ex.sendResponseHeaders(200, 0); // chunked, no length
          OutputStream out = ex.getResponseBody();
          byte[] block = new byte[64 * 1024];
          for (int i = 0; i < 64; i++) {
            out.write(block);
          }
        }
        case "/endless-ok" -> {
          // A 200 whose body never ends (a camera's MJPEG stream, a video): 8 KB at a time until hung up on.
          ex.sendResponseHeaders(200, 0);
          OutputStream out = ex.getResponseBody();
          byte[] block = new byte[8 * 1024];
          for (long end = System.nanoTime() + 60_000_000_000L; System.nanoTime() < end; ) {
            out.write(block);
          }
        }
        case "/big-declared" -> {
          ex.sendResponseHeaders(200, 100L << 20);
          ex.getResponseBody().write(new byte[1024]);
        }
        case "/empty" -> ex.sendResponseHeaders(200, -1);
        case "/slow-ok" -> {
          int now = inFlight.incrementAndGet();
          maxInFlight.accumulateAndGet(now, Math::max);
          try {
            sleep(150);
            send(ex, 200, "image/png", IMAGE);
          } finally {
            inFlight.decrementAndGet();
          }
        }
        case "/ok-in-1200ms" -> {
          sleep(1200);
          send(ex, 200, "image/png", IMAGE);
        }
        default -> send(ex, 404, "text/plain", new byte[0]);
      }
    } catch (IOException e) {
      // the client hung up (that is what several tests provoke)
    }
  }

  private static void redirect(HttpExchange ex, String location) throws IOException {
    ex.getResponseHeaders().add("Location", location);
    ex.sendResponseHeaders(302, -1);
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().add("Content-Type", type);
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      ex.getResponseBody().write(body);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
