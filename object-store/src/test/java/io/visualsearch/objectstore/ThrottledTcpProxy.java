package io.visualsearch.objectstore;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A slow network for tests: relays TCP connections to {@code target} at about {@code bytesPerSecond}
 * or less in each direction, so a transfer of a few megabytes takes seconds on the loopback interface.
 */
final class ThrottledTcpProxy implements AutoCloseable {

  private static final int CHUNK = 16 * 1024;

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final long bytesPerSecond;
  private final List<Socket> open = new CopyOnWriteArrayList<>();

  ThrottledTcpProxy(URI target, long bytesPerSecond) throws IOException {
    this.target = new InetSocketAddress(target.getHost(), target.getPort());
    this.bytesPerSecond = bytesPerSecond;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "throttled-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** {@code http://127.0.0.1:<port>}. */
  String endpoint() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(target.getAddress(), target.getPort());
        open.add(client);
        open.add(upstream);
        pump(client, upstream, "up");
        pump(upstream, client, "down");
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void pump(Socket from, Socket to, String direction) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[CHUNK];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          out.write(buf, 0, n);
          out.flush();
          // Each chunk waits its own share of a second: an idle connection earns no burst.
          long nanos = n * 1_000_000_000L / bytesPerSecond;
          Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        }
      } catch (IOException | InterruptedException e) {
        // One side went away: the other side's pump ends on its own close below.
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, "throttled-proxy-" + direction);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    open.forEach(ThrottledTcpProxy::closeQuietly);
  }
}
