package io.visualsearch.searchapi.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * An HTTP/1.1 client over a real socket that sends a request's bytes as a test decides (a body cut
 * short, the rest later) and reads answers whole. Jetty's LocalConnector did the same in memory,
 * but lost wake-ups under load: requests fed to it were never dispatched.
 */
final class SocketClient implements AutoCloseable {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final Socket socket;
  private final InputStream in;

  private SocketClient(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setTcpNoDelay(true);
    in = socket.getInputStream();
  }

  static SocketClient connect(int port) throws IOException {
    return new SocketClient(port);
  }

  /** One request on a connection of its own, and its answer. */
  static String exchange(int port, String request) throws IOException {
    try (SocketClient client = connect(port)) {
      client.send(request);
      return client.response();
    }
  }

  void send(String bytes) throws IOException {
    socket.getOutputStream().write(bytes.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
  }

  /** The next answer, head and body (by its Content-Length), as text; fails after 10 s. */
  String response() throws IOException {
    return responseWithin(WAIT);
  }

  /** The same, failing with a SocketTimeoutException when no byte came for {@code wait}. */
  String responseWithin(Duration wait) throws IOException {
    socket.setSoTimeout((int) wait.toMillis());
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed before a whole answer: " + head.toString(StandardCharsets.ISO_8859_1));
      }
      head.write(b);
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    int length = 0;
    for (String line : text.split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(line.indexOf(':') + 1).trim());
      }
    }
    return text + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  /** Whether the server closes the connection within 10 s, reading and dropping what it still sends. */
  boolean closedWithin() throws IOException {
    socket.setSoTimeout((int) WAIT.toMillis());
    try {
      while (in.read() >= 0) {
        // nothing more is expected; whatever comes is not an answer to wait for
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
