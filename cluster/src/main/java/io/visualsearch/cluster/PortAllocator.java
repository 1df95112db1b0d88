package io.visualsearch.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Hands out the cluster's ports: consecutive ports from a base (predictable for an operator:
 * {@code --base-port 19000} puts search-api on a known port), or free ports when the base is 0
 * (tests, which must not collide with a demo running on the conventional ports).
 *
 * <p>Free ports are taken <em>below the kernel's ephemeral range</em>
 * ({@code net.ipv4.ip_local_port_range}, 32768–60999 by default), from a random starting point.
 * A port from {@code new ServerSocket(0)} is an ephemeral port: between choosing it and the
 * member binding it (tens of seconds at start-up; the whole kill → restart gap later) any outgoing
 * connection on the machine — a Kafka client, an HTTP client, a JDBC pool — may get it as its
 * local port, and the member then dies with "Address already in use". Outside that range only a
 * listener can take it.
 */
public final class PortAllocator {

  static final int FREE_LOW = 20_000;

  private final String host;
  private final Set<Integer> given = new HashSet<>();
  private int next;
  private int cursor = -1;

  public PortAllocator(String host, int base) {
    this.host = host;
    this.next = base;
  }

  public synchronized int next() {
    if (next > 0) {
      return next++;
    }
    int high = ephemeralLow() - 1;
    if (high - FREE_LOW < 500) {
      return ephemeral(); // an unusual port range: nothing sensible to avoid
    }
    int span = high - FREE_LOW + 1;
    if (cursor < 0) {
      cursor = FREE_LOW + ThreadLocalRandom.current().nextInt(span);
    }
    for (int tries = 0; tries < span; tries++) {
      int port = cursor;
      cursor = cursor >= high ? FREE_LOW : cursor + 1;
      if (!given.contains(port) && bindable(port)) {
        given.add(port);
        return port;
      }
    }
    throw new UncheckedIOException(new IOException("no free port in " + FREE_LOW + "-" + high + " on " + host));
  }

  private boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(InetAddress.getByName(host), port), 1);
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  private int ephemeral() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The low end of Linux's ephemeral port range; 32768 when it cannot be read. */
  static int ephemeralLow() {
    try {
      // readAllLines, not readString: procfs reports size 0 and readString came back short here.
      String[] range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+");
      return Integer.parseInt(range[0]);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }
}
