package io.visualsearch.responseconsumer;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A loopback HTTP/1.1 relay in front of the stack's S3 server that holds the requests a test picks
 * until it releases them and passes every other one at once: a whole service, wired as in
 * production with its one store client, sees some of its reads stall (a large shard on a slow
 * transfer) while its other calls go through. Requests are relayed byte for byte, since their
 * signatures cover the Host header the client sent; only their boundaries are read, so that one
 * request of a kept-alive connection can be held.
 */
final class HoldingLink implements AutoCloseable {

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final Predicate<String> holds;
  private final CountDownLatch released = new CountDownLatch(1);
  private final AtomicInteger waiting = new AtomicInteger();
  private final List<Socket> open = new CopyOnWriteArrayList<>();

  /** A relay to {@code host:port} holding the requests whose request line ("GET /bucket/key HTTP/1.1") {@code holds}. */
  HoldingLink(String host, int port, Predicate<String> holds) throws IOException {
    this.target = new InetSocketAddress(host, port);
    this.holds = holds;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    daemon(this::acceptLoop, "holding-link-accept");
  }

  /** {@code http://127.0.0.1:<port>}, the S3 endpoint to give the client under test. */
  String httpEndpoint() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** Held requests waiting now (one its client gave up on still waits: it was never sent). */
  int waiting() {
    return waiting.get();
  }

  /** Passes the held requests, and from now on every request. */
  void release() {
    released.countDown();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket();
        upstream.connect(target, 10_000);
        open.add(client);
        open.add(upstream);
        daemon(() -> relayRequests(client, upstream), "holding-link-requests");
        daemon(() -> copy(upstream, client), "holding-link-responses");
      } catch (IOException e) {
        if (server.isClosed()) {
          return;
        }
      }
    }
  }

  /** Request by request: the head (held when picked), then its body by Content-Length or chunks. */
  private void relayRequests(Socket client, Socket upstream) {
    try (InputStream in = new BufferedInputStream(client.getInputStream());
        OutputStream out = upstream.getOutputStream()) {
      while (true) {
        byte[] head = head(in);
        if (head == null) {
          return;
        }
        String text = new String(head, StandardCharsets.ISO_8859_1);
        String requestLine = text.substring(0, text.indexOf("\r\n"));
        if (holds.test(requestLine)) {
          waiting.incrementAndGet();
          try {
            released.await();
          } finally {
            waiting.decrementAndGet();
          }
        }
        out.write(head);
        out.flush();
        long length = 0;
        boolean chunked = false;
        for (String line : text.split("\r\n")) {
          String lower = line.toLowerCase(Locale.ROOT);
          if (lower.startsWith("content-length:")) {
            length = Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
          } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
            chunked = true;
          }
        }
        if (chunked) {
          relayChunks(in, out);
        } else {
          relay(in, out, length);
        }
      }
    } catch (IOException | InterruptedException e) {
      // The client or the server closed the connection (or the relay did): nothing left to relay.
    } finally {
      closeQuietly(client);
      closeQuietly(upstream);
    }
  }

  /** The request head through its empty line, or null at the end of the connection. */
  private static byte[] head(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    int b;
    while ((b = in.read()) >= 0) {
      head.write(b);
      matched = b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : (b == '\r' ? 1 : 0);
      if (matched == 4) {
        return head.toByteArray();
      }
    }
    return null;
  }

  private static void relayChunks(InputStream in, OutputStream out) throws IOException {
    while (true) {
      String sizeLine = line(in, out);
      long size = Long.parseLong(sizeLine.split(";", 2)[0].strip(), 16);
      if (size == 0) {
        while (!line(in, out).isEmpty()) {
          // trailers, up to the empty line that ends the body
        }
        out.flush();
        return;
      }
      relay(in, out, size + 2); // the chunk and its CRLF
    }
  }

  /** One line, relayed; returned without its CRLF. */
  private static String line(InputStream in, OutputStream out) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      out.write(b);
      if (b == '\n') {
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      line.write(b);
    }
    throw new IOException("connection ended inside a chunked body");
  }

  private static void relay(InputStream in, OutputStream out, long length) throws IOException {
    byte[] buffer = new byte[16 * 1024];
    while (length > 0) {
      int n = in.read(buffer, 0, (int) Math.min(buffer.length, length));
      if (n < 0) {
        throw new IOException("connection ended inside a body");
      }
      out.write(buffer, 0, n);
      length -= n;
    }
    out.flush();
  }

  /** Responses, 100 Continue included, go back as they come. */
  private static void copy(Socket from, Socket to) {
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      byte[] buffer = new byte[16 * 1024];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // Either side closed.
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    released.countDown();
    server.close();
    for (Socket s : open) {
      closeQuietly(s);
    }
  }
}
