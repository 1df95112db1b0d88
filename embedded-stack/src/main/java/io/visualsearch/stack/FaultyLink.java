package io.visualsearch.stack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A network fault between a client under test and a real server of the stack, which other tests
 * share and so cannot be stopped or slowed themselves: a loopback TCP relay that can be cut (open
 * connections dropped, new ones closed at once) and restored, and that can carry at most a given
 * number of bytes a second in each direction.
 */
public final class FaultyLink implements AutoCloseable {

  private static final int CHUNK = 16 * 1024;

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final long bytesPerSecond;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private volatile boolean cut;

  /** A link to {@code host:port} at full speed. */
  public FaultyLink(String host, int port) throws IOException {
    this(host, port, 0);
  }

  /** A link carrying at most {@code bytesPerSecond} each way (0: unlimited). */
  public FaultyLink(String host, int port, long bytesPerSecond) throws IOException {
    this.target = new InetSocketAddress(host, port);
    this.bytesPerSecond = bytesPerSecond;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "faulty-link-accept");
    t.setDaemon(true);
    t.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** {@code http://127.0.0.1:<port>}, for HTTP servers such as the S3 server. */
  public String httpEndpoint() {
    return "http://127.0.0.1:" + port();
  }

  /** Drops every open connection; new ones are accepted and closed at once. */
  public void cut() {
    cut = true;
    for (Socket s : open) {
      closeQuietly(s);
    }
    open.clear();
  }

  public void restore() {
    cut = false;
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        if (cut) {
          closeQuietly(client);
          continue;
        }
        Socket upstream = new Socket(target.getAddress(), target.getPort());
        open.add(client);
        open.add(upstream);
        pump(client, upstream, "up");
        pump(upstream, client, "down");
      } catch (IOException e) {
        // Closed, or the target refused: the client sees a dropped connection.
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
          if (bytesPerSecond > 0) {
            // Each chunk waits its own share of a second: an idle connection earns no burst.
            long nanos = n * 1_000_000_000L / bytesPerSecond;
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
          }
        }
      } catch (IOException | InterruptedException e) {
        // Either side closed.
      } finally {
        closeQuietly(from);
        closeQuietly(to);
        open.remove(from);
        open.remove(to);
      }
    }, "faulty-link-" + direction);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // Nothing to do.
    }
  }

  @Override
  public void close() throws IOException {
    cut();
    server.close();
  }
}
