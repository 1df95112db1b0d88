package io.visualsearch.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * Hands out the cluster's ports: consecutive ports from a base (predictable for an operator:
 * {@code --base-port 19000} puts search-api on a known port), or free ephemeral ports when the
 * base is 0 (tests, which must not collide with a demo running on the conventional ports).
 */
public final class PortAllocator {

  private final String host;
  private int next;

  public PortAllocator(String host, int base) {
    this.host = host;
    this.next = base;
  }

  public synchronized int next() {
    if (next > 0) {
      return next++;
    }
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
