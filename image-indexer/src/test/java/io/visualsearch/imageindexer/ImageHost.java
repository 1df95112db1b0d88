package io.visualsearch.imageindexer;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A retailer's image host on 127.0.0.1: serves images with or without an ETag (and answers
 * If-None-Match with 304), plus the hostile behaviours a real host shows. Counts, per path, full
 * bodies sent and 304s, so tests can tell a download from a conditional check.
 */
final class ImageHost implements AutoCloseable {

  private interface Behaviour {
    void serve(HttpExchange ex) throws IOException, InterruptedException;
  }

  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final Map<String, Behaviour> paths = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> bodies = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> notModified = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();

  ImageHost() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 64);
    server.setExecutor(threads);
    server.createContext("/", this::route);
    server.start();
  }

  String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** Serves {@code body}; with {@code etag} non-null, conditional requests carrying it get 304. */
  void image(String path, byte[] body, String contentType, String etag) {
    paths.put(path, ex -> {
      if (etag != null && etag.equals(ex.getRequestHeaders().getFirst("If-None-Match"))) {
        count(notModified, path);
        ex.sendResponseHeaders(304, -1);
        return;
      }
      if (etag != null) {
        ex.getResponseHeaders().set("ETag", etag);
      }
      ex.getResponseHeaders().set("Content-Type", contentType);
      count(bodies, path);
      ex.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
      try (OutputStream os = ex.getResponseBody()) {
        os.write(body);
      }
    });
  }

  void status(String path, int code) {
    paths.put(path, ex -> ex.sendResponseHeaders(code, -1));
  }

  void redirect(String path, String location) {
    paths.put(path, ex -> {
      ex.getResponseHeaders().set("Location", location);
      ex.sendResponseHeaders(302, -1);
    });
  }

  /** Declares a big body and sends it a byte at a time, fast enough to never trip a read timeout. */
  void trickle(String path) {
    paths.put(path, ex -> {
      ex.getResponseHeaders().set("Content-Type", "image/png");
      ex.sendResponseHeaders(200, 100_000);
      try (OutputStream os = ex.getResponseBody()) {
        for (int i = 0; i < 600; i++) {
          os.write(0x89);
          os.flush();
          Thread.sleep(50);
        }
      }
    });
  }

  int downloads(String path) {
    return get(bodies, path);
  }

  int notModified(String path) {
    return get(notModified, path);
  }

  int hits(String path) {
    return get(hits, path);
  }

  private void route(HttpExchange ex) {
    String path = ex.getRequestURI().getPath();
    count(hits, path);
    try (ex) {
      Behaviour b = paths.get(path);
      if (b == null) {
        ex.sendResponseHeaders(404, -1);
      } else {
        b.serve(ex);
      }
    } catch (IOException e) {
      // The client hung up (a cut-off trickle): nothing to answer.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void count(Map<String, AtomicInteger> m, String path) {
    m.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
  }

  private static int get(Map<String, AtomicInteger> m, String path) {
    AtomicInteger n = m.get(path);
    return n == null ? 0 : n.get();
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
