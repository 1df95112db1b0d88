package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.visualsearch.stack.PortAllocator;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a restarted member's wait reports: ready, or only live (the kill scenario then prints NEVER). */
class ClusterRestartTest {

  /** Run as the member's main: /healthz 200 always, /readyz 200 only when asked to be ready. */
  public static final class Ops {
    public static void main(String[] args) throws Exception {
      int port = Integer.parseInt(args[0]);
      boolean ready = Boolean.parseBoolean(args[1]);
      HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
      server.createContext("/healthz", ex -> {
        ex.sendResponseHeaders(200, -1);
        ex.close();
      });
      server.createContext("/readyz", ex -> {
        ex.sendResponseHeaders(ready ? 200 : 503, -1);
        ex.close();
      });
      server.start();
      Thread.sleep(Long.MAX_VALUE);
    }
  }

  private static ManagedProcess member(Path data, boolean ready) {
    int port = new PortAllocator("127.0.0.1", 0).next();
    ProcessSpec spec = new ProcessSpec("member-1", "test", Ops.class.getName(), List.of("-Xmx32m"),
        List.of(Integer.toString(port), Boolean.toString(ready)), Map.of(),
        URI.create("http://127.0.0.1:" + port + "/readyz"), 300);
    return new ManagedProcess(spec, System.getProperty("java.class.path"), data.resolve("logs/member-1.log"),
        data.resolve("tmp/member-1"));
  }

  @Test
  void aMemberLiveButNeverReadyIsReportedNotReadyInsteadOfReadyAfterTheWait(@TempDir Path data) throws Exception {
    ManagedProcess m = member(data, false);
    try {
      m.start();
      assertFalse(Cluster.awaitRestarted(m, Duration.ofMinutes(1), Duration.ofSeconds(2)));
      assertTrue(m.alive());
    } finally {
      m.stop(Duration.ofSeconds(5));
    }
  }

  @Test
  void aMemberThatAnswersReadyIsReady(@TempDir Path data) throws Exception {
    ManagedProcess m = member(data, true);
    try {
      m.start();
      assertTrue(Cluster.awaitRestarted(m, Duration.ofMinutes(1), Duration.ofMinutes(1)));
    } finally {
      m.stop(Duration.ofSeconds(5));
    }
  }
}
