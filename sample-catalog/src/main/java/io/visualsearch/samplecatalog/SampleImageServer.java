package io.visualsearch.samplecatalog;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * The sample retailer's image host: serves training image {@code i} as a 28×28 grayscale PNG at
 * {@code /images/<i>.png} on 127.0.0.1 (as stored: the pipeline normalises and resizes). Sends
 * an ETag and honours If-None-Match, so conditional re-fetching can be exercised. Test images
 * are not served: they are the shoppers' queries.
 */
public final class SampleImageServer implements Component {

  private static final Pattern IMAGE_PATH = Pattern.compile("/images/([0-9]{1,6})\\.png");

  private final FashionMnist dataset;
  private final int requestedPort;
  private HttpServer server;
  private ExecutorService threads;
  private FashionMnist.Split train;
  private volatile boolean running;

  /** {@code port} 0 picks a free ephemeral port. */
  public SampleImageServer(FashionMnist dataset, int port) {
    this.dataset = dataset;
    this.requestedPort = port;
  }

  @Override
  public String name() {
    return "sample-image-server";
  }

  @Override
  public synchronized void start() throws IOException {
    if (server != null) {
      throw new IllegalStateException("already started");
    }
    train = dataset.train();
    threads = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "sample-image-server");
      t.setDaemon(true);
      return t;
    });
    server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), requestedPort), 128);
    server.setExecutor(threads);
    server.createContext("/images/", this::serve);
    server.start();
    running = true;
  }

  /** The bound port (after start). */
  public int port() {
    return server.getAddress().getPort();
  }

  /** {@code http://127.0.0.1:<port>} (after start). */
  public String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  @Override
  public CheckResult check() {
    return running ? CheckResult.OK : CheckResult.failed("not serving");
  }

  private void serve(HttpExchange ex) throws IOException {
    try (ex) {
      String method = ex.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        ex.sendResponseHeaders(405, -1);
        return;
      }
      Matcher m = IMAGE_PATH.matcher(ex.getRequestURI().getPath());
      int index = m.matches() ? Integer.parseInt(m.group(1)) : -1;
      if (index < 0 || index >= train.size()) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      String etag = "\"fm-" + index + "-v1\"";
      ex.getResponseHeaders().add("ETag", etag);
      ex.getResponseHeaders().add("Cache-Control", "public, max-age=86400");
      if (etag.equals(ex.getRequestHeaders().getFirst("If-None-Match"))) {
        ex.sendResponseHeaders(304, -1);
        return;
      }
      byte[] png = png(train.image(index));
      ex.getResponseHeaders().add("Content-Type", "image/png");
      if (method.equals("HEAD")) {
        ex.sendResponseHeaders(200, -1);
        return;
      }
      ex.sendResponseHeaders(200, png.length);
      ex.getResponseBody().write(png);
    }
  }

  /** A 28×28 8-bit grayscale PNG of the stored pixels. */
  public static byte[] png(byte[] pixels) {
    BufferedImage img = new BufferedImage(FashionMnist.SIDE, FashionMnist.SIDE, BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setDataElements(0, 0, FashionMnist.SIDE, FashionMnist.SIDE, pixels);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      if (!ImageIO.write(img, "png", out)) {
        throw new IllegalStateException("no PNG writer");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  @Override
  public synchronized void close() {
    running = false;
    if (server != null) {
      server.stop(0);
    }
    if (threads != null) {
      threads.shutdownNow();
      try {
        threads.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
