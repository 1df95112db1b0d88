package io.visualsearch.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Hands out ports for servers this project starts: consecutive ports from a base (predictable for
 * an operator: the cluster's {@code --base-port 19000} puts search-api on a known port), or free
 * ports when the base is 0 (tests and the embedded stack on free ports, which must not collide
 * with a demo running on the conventional ports).
 *
 * <p>Free ports are taken <em>below the kernel's ephemeral range</em>
 * ({@code net.ipv4.ip_local_port_range}, 32768–60999 by default), from a random starting point.
 * A port from {@code new ServerSocket(0)} is an ephemeral port: between choosing it and the
 * server binding it (seconds for a child JVM such as s3proxy or Zipkin, tens of seconds for a
 * cluster member at start-up; the whole kill → restart gap later) any outgoing connection on the
 * machine — a Kafka client, an HTTP client, a JDBC pool — may get it as its local port, and the
 * server then dies with "Address already in use". Outside that range only a listener can take it.
 *
 * <p>A free port is also handed out once only, to one caller: never twice in this JVM (whichever
 * allocator asks), and not to another JVM of the same user on this machine while this one runs
 * (a byte-range lock at the port's offset in {@code <java.io.tmpdir>/visual-search-ports-<user>.lock},
 * held until the JVM exits; without that file the JVM-wide guard still holds). So a port stays
 * the caller's between choosing it and binding it, and across a server's stop and restart on it:
 * only a process that binds it without asking an allocator can take it meanwhile.
 */
public final class PortAllocator {

  /** The lowest free port handed out. */
  public static final int FREE_LOW = 20_000;

  /** Every free port handed out in this JVM, by any allocator. Guarded by the class. */
  private static final Set<Integer> GIVEN = new HashSet<>();
  /** The locks reserving {@link #GIVEN} against other JVMs; kept for the JVM's life. Guarded by the class. */
  private static final List<FileLock> HELD = new ArrayList<>();
  private static FileChannel reservations;
  private static boolean reservationsOpened;

  private final String host;
  private int next;
  private int cursor;

  public PortAllocator(String host, int base) {
    this(host, base, -1);
  }

  /** With the first free port to try fixed ({@code start}), or random when negative: for tests. */
  PortAllocator(String host, int base, int start) {
    this.host = host;
    this.next = base;
    this.cursor = start;
  }

  /** One free port on {@code host}, as {@code new PortAllocator(host, 0).next()} gives it. */
  public static int free(String host) {
    return new PortAllocator(host, 0).next();
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
    if (cursor < FREE_LOW || cursor > high) {
      cursor = FREE_LOW + ThreadLocalRandom.current().nextInt(span);
    }
    for (int tries = 0; tries < span; tries++) {
      int port = cursor;
      cursor = cursor >= high ? FREE_LOW : cursor + 1;
      if (reserve(host, port)) {
        return port;
      }
    }
    throw new UncheckedIOException(new IOException("no free port in " + FREE_LOW + "-" + high + " on " + host));
  }

  /** Takes {@code port} for good when no allocator gave it out (here or in another JVM) and it is free now. */
  private static synchronized boolean reserve(String host, int port) {
    if (GIVEN.contains(port) || !bindable(host, port) || !lockAgainstOtherJvms(port)) {
      return false;
    }
    GIVEN.add(port);
    return true;
  }

  /** False when another JVM holds {@code port}; true when locked, or when there is no file to lock in. */
  private static boolean lockAgainstOtherJvms(int port) {
    FileChannel channel = reservations();
    if (channel == null) {
      return true;
    }
    // An interrupted caller would close the channel (it is interruptible), and with it every lock
    // held: the interrupt is set aside for the call and restored after it.
    boolean interrupted = Thread.interrupted();
    try {
      FileLock lock = channel.tryLock(port, 1, false);
      if (lock == null) {
        return false;
      }
      HELD.add(lock);
      return true;
    } catch (OverlappingFileLockException ours) {
      return false; // cannot happen while GIVEN is consulted first; refusing is the safe answer
    } catch (IOException e) {
      return true; // locking does not work here: the JVM-wide guard is what is left
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The shared file, opened once and never closed: closing any channel on it would drop every lock
   * this JVM holds there (POSIX record locks belong to the process, not the channel).
   */
  private static FileChannel reservations() {
    if (!reservationsOpened) {
      reservationsOpened = true;
      String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
      Path file = Path.of(System.getProperty("java.io.tmpdir"), "visual-search-ports-" + user + ".lock");
      try {
        reservations = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      } catch (IOException | RuntimeException e) {
        reservations = null;
      }
    }
    return reservations;
  }

  private static boolean bindable(String host, int port) {
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
  public static int ephemeralLow() {
    try {
      // readAllLines, not readString: procfs reports size 0 and readString came back short here.
      String[] range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+");
      return Integer.parseInt(range[0]);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }
}
