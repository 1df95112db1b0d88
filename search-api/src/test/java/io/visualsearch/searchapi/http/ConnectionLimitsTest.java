package io.visualsearch.searchapi.http;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.runtime.ReadinessReport;
import io.visualsearch.searchapi.FailureStreaks;
import io.visualsearch.searchapi.auth.ApiKeys;
import io.visualsearch.searchapi.auth.Authenticator;
import io.visualsearch.tracing.Tracing;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The HTTP port's bounds on connections, on real sockets: no more than the cap open at once (the
 * others wait until one closes), and a request line and headers trickled a byte at a time are cut
 * off by the header deadline, which the idle timeout, restarted by every byte, never did.
 */
class ConnectionLimitsTest {

  static final int CAP = 4;
  static final Duration SHORT_DEADLINE = Duration.ofSeconds(2);
  /** A liveness bound for a trickle the deadline must end; without it the trickle would last for days. */
  static final Duration CLOSED_WITHIN = Duration.ofSeconds(20);
  static final String HEALTHZ = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

  final List<AutoCloseable> open = new ArrayList<>();
  Tracing tracing;
  HttpApi api;

  void start(int maxConnections, Duration headerDeadline) throws Exception {
    tracing = Tracing.withExporter("search-api", SpanExporter.composite());
    Admission admission = new Admission(4, 4, 4, Duration.ofSeconds(1));
    ApiRoutes routes = new ApiRoutes(new Authenticator(ApiKeys.parse(List.of("acme:acme-key-0123456789abcdef"))),
        null, new SearchRequestParser(1 << 20, 10), admission, 1 << 20, tracing, null,
        () -> ReadinessReport.of(List.of()), new PrometheusRegistry(), null, new Activity(new PrometheusRegistry()),
        new UploadBudget(64L << 20), new FailureStreaks(LoggerFactory.getLogger(ConnectionLimitsTest.class)));
    api = new HttpApi("127.0.0.1", 0, routes, admission.capacity(), () -> Duration.ofSeconds(1), maxConnections,
        headerDeadline);
    api.start();
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
    if (api != null) {
      api.close();
    }
    if (tracing != null) {
      tracing.close();
    }
  }

  SocketClient connect() throws IOException {
    SocketClient client = SocketClient.connect(api.port());
    open.add(client);
    return client;
  }

  @Test
  void connectionsBeyondTheCapWaitUntilOneClosesAndTheApiStillAnswersThen() throws Exception {
    start(CAP, HttpApi.HEADER_DEADLINE);
    List<SocketClient> held = new ArrayList<>();
    for (int i = 0; i < CAP; i++) {
      SocketClient c = connect();
      c.send(HEALTHZ);
      assertTrue(c.response().startsWith("HTTP/1.1 200"), "connection " + i + " within the cap is served");
      held.add(c); // kept alive: still open
    }
    List<SocketClient> beyond = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      SocketClient c = connect();
      c.send(HEALTHZ);
      beyond.add(c);
    }
    for (SocketClient c : beyond) {
      assertThrows(SocketTimeoutException.class, () -> c.responseWithin(Duration.ofSeconds(1)),
          "a connection beyond the cap is not served while the cap is full");
    }

    held.get(0).close();
    assertTrue(beyond.get(0).response().startsWith("HTTP/1.1 200"), "the first waiting connection is served once one closed");

    for (SocketClient c : held.subList(1, CAP)) {
      c.close();
    }
    for (SocketClient c : beyond) {
      c.close();
    }
    assertTrue(SocketClient.exchange(api.port(), HEALTHZ).startsWith("HTTP/1.1 200"), "/healthz on a fresh connection");
    String similar = SocketClient.exchange(api.port(), "GET /api/v1/products/a/similar HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assertTrue(similar.startsWith("HTTP/1.1 401"), "an API request on a fresh connection is answered: " + similar);
  }

  @Test
  void headersTrickledAByteAtATimeAreCutOffByTheDeadline() throws Exception {
    start(64, SHORT_DEADLINE);
    byte[] head = ("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(1000))
        .getBytes(StandardCharsets.US_ASCII);
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), api.port())) {
      s.setSoTimeout(1000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      long until = System.nanoTime() + CLOSED_WITHIN.toNanos();
      for (int i = 0; ; i++) {
        if (System.nanoTime() > until) {
          fail("a connection trickling its headers was still open after " + CLOSED_WITHIN + " (" + i + " bytes)");
        }
        try {
          out.write(head[i]);
          out.flush();
          if (in.read() < 0) {
            break; // closed by the server
          }
          fail("the server answered headers that never ended");
        } catch (SocketTimeoutException stillOpen) {
          // one byte a second, well within the idle timeout
        } catch (IOException reset) {
          break;
        }
      }
    }
  }

  @Test
  void aKeptAliveConnectionIdleBetweenRequestsOutlivesTheHeaderDeadline() throws Exception {
    start(64, SHORT_DEADLINE);
    SocketClient c = connect();
    c.send(HEALTHZ);
    assertTrue(c.response().startsWith("HTTP/1.1 200"));
    Thread.sleep(SHORT_DEADLINE.multipliedBy(2).toMillis()); // no request under way: only the idle timeout applies
    c.send(HEALTHZ);
    assertTrue(c.response().startsWith("HTTP/1.1 200"), "the idle connection was kept");
  }
}
