package io.visualsearch.stack;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Refuses to start a server on a port something else holds, naming the variable that moves it:
 * otherwise a readiness probe takes whatever answers there for the server (MinIO on :9000, another
 * demo's Zipkin, a leftover of ours), or the server fails deep in its start with only "failed to
 * bind" to say why.
 */
final class FreePort {

  private FreePort() {}

  static void require(String server, String host, int port, String setting) throws IOException {
    if (port == 0) {
      return; // any free port
    }
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true); // as a server binds: a closed connection's TIME_WAIT is no obstacle
      probe.bind(new InetSocketAddress(InetAddress.getByName(host), port));
    } catch (IOException e) {
      throw new IOException(server + ": " + host + ":" + port + " is already in use (another demo, or a leftover"
          + " of one?) — set " + setting, e);
    }
  }
}
