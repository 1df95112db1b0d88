package io.visualsearch.searchapi.grpc;

import static org.junit.jupiter.api.Assertions.fail;

import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.searchapi.auth.ApiKeys;
import io.visualsearch.searchapi.auth.Authenticator;
import io.visualsearch.searchapi.http.UploadBudget;
import io.visualsearch.tracing.Tracing;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A connection trickling its HTTP/2 preface is closed by the handshake timeout, as HTTP's header
 * deadline closes one trickling its headers (gRPC's default let it stay two minutes).
 */
class GrpcHandshakeTimeoutTest {

  /** A liveness bound; without the timeout set the server waits 120 s. */
  static final Duration CLOSED_WITHIN = Duration.ofSeconds(30);

  @Test
  void aConnectionTricklingItsPrefaceIsClosed() throws Exception {
    try (Tracing tracing = Tracing.withExporter("search-api", SpanExporter.composite())) {
      VisualSearchService service = new VisualSearchService(
          new Authenticator(ApiKeys.parse(List.of("acme:acme-key-0123456789abcdef"))), null, null, 10,
          new Activity(new PrometheusRegistry()));
      SearchGrpcServer server = new SearchGrpcServer("127.0.0.1", 0, 1 << 20, new UploadBudget(64L << 20), service,
          tracing, Duration.ofSeconds(30), new PrometheusRegistry(), () -> Duration.ofSeconds(1), Duration.ofSeconds(2));
      server.start();
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
        byte[] preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        s.setSoTimeout(1000);
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        long until = System.nanoTime() + CLOSED_WITHIN.toNanos();
        for (int i = 0; ; i++) {
          if (System.nanoTime() > until) {
            fail("a connection trickling its preface was still open after " + CLOSED_WITHIN);
          }
          try {
            // All but its last byte: a complete preface followed by anything else is a protocol error.
            if (i < preface.length - 1) {
              out.write(preface[i]);
              out.flush();
            }
            while (in.read() >= 0) {
              // the server's own preface and settings, or a GOAWAY: read on until it closes
            }
            break;
          } catch (SocketTimeoutException stillOpen) {
            // one byte a second
          } catch (IOException reset) {
            break;
          }
        }
      } finally {
        server.close();
      }
    }
  }
}
