package io.visualsearch.searchapi.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.searchapi.ApiException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.LocalConnector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link UploadReader} inside a real Jetty, over an in-memory connection the test feeds by hand:
 * bodies that keep pace are read whole, trickling ones are answered 408 and cut off, refused ones
 * are drained only while they arrive within the budget.
 */
class UploadReaderTest {

  /** A pace a test can fall behind of quickly: nothing for 300 ms, then 1000 bytes a second. */
  static final UploadPace PACE = new UploadPace(1000, Duration.ofMillis(300));
  static final Duration DRAIN = Duration.ofMillis(300);
  static final long MAX_BYTES = 1000;

  final UploadReader reader = new UploadReader(PACE, DRAIN);
  /** Drains for longer than any test runs, so that the body's second half arrives while it waits. */
  final UploadReader patientReader = new UploadReader(PACE, Duration.ofSeconds(30));
  final CountDownLatch refusing = new CountDownLatch(1);
  Server server;
  LocalConnector connector;

  @BeforeEach
  void start() throws Exception {
    server = new Server();
    connector = new LocalConnector(server);
    server.addConnector(connector);
    server.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        int status = 200;
        String text;
        try {
          String path = request.getHttpURI().getPath();
          if (path.startsWith("/refuse")) {
            refusing.countDown();
            (path.equals("/refuse-patiently") ? patientReader : reader).discard(request, 2 * MAX_BYTES);
            status = 401;
            text = "refused";
          } else {
            text = "read " + reader.read(request, MAX_BYTES).length;
          }
        } catch (ApiException e) {
          status = e.status();
          text = e.code();
        }
        response.setStatus(status);
        response.write(true, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), callback);
        return true;
      }
    });
    server.start();
  }

  @AfterEach
  void stop() throws Exception {
    server.stop();
  }

  @Test
  void aBodyThatKeepsPaceIsReadWhole() throws Exception {
    String answer = connector.getResponse(post("/read", 600) + "x".repeat(600), 10, TimeUnit.SECONDS);
    assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
    assertTrue(answer.endsWith("read 600"), answer);
  }

  @Test
  void aBodyDeclaredOverTheCapIsRefusedUnread() throws Exception {
    String answer = connector.getResponse(post("/read", MAX_BYTES + 1), 10, TimeUnit.SECONDS);
    assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
  }

  @Test
  void aTricklingBodyIsAnswered408AndItsConnectionClosed() throws Exception {
    LocalConnector.LocalEndPoint client = connector.connect();
    client.addInput(post("/read", 600) + "x".repeat(10));
    String answer = client.getResponse(false, 10, TimeUnit.SECONDS);
    assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
    assertTrue(answer.endsWith("upload_too_slow"), answer);
    client.waitUntilClosedOrIdleFor(10, TimeUnit.SECONDS);
    assertFalse(client.isOpen(), "the rest of a trickling body is not waited for on a later request either");
  }

  @Test
  void aRefusedBodyStillArrivingIsDrainedAndTheConnectionKept() throws Exception {
    LocalConnector.LocalEndPoint client = connector.connect();
    client.addInput(post("/refuse-patiently", 1500) + "x".repeat(500));
    assertTrue(refusing.await(10, TimeUnit.SECONDS));
    // Without the drain the answer would be out and the connection closing by now.
    Thread.sleep(200);
    client.addInput("x".repeat(1000));
    String refused = client.getResponse(false, 10, TimeUnit.SECONDS);
    assertTrue(refused.startsWith("HTTP/1.1 401"), refused);
    assertFalse(refused.contains("Connection: close"), refused);
    client.addInput(post("/read", 5) + "hello");
    String next = client.getResponse(false, 10, TimeUnit.SECONDS);
    assertTrue(next != null && next.endsWith("read 5"), "the next request on the same connection: " + next);
  }

  @Test
  void aRefusedBodyThatStallsIsLeftUnreadAndItsConnectionClosed() throws Exception {
    LocalConnector.LocalEndPoint client = connector.connect();
    client.addInput(post("/refuse", 1500) + "x".repeat(10));
    String refused = client.getResponse(false, 10, TimeUnit.SECONDS);
    assertTrue(refused.startsWith("HTTP/1.1 401"), refused);
    client.waitUntilClosedOrIdleFor(10, TimeUnit.SECONDS);
    assertFalse(client.isOpen());
  }

  @Test
  void aRefusedBodyOverTwiceTheCapIsNotDrainedAtAll() throws Exception {
    LocalConnector.LocalEndPoint client = connector.connect();
    client.addInput(post("/refuse", 2 * MAX_BYTES + 1) + "x".repeat(10));
    String refused = client.getResponse(false, 10, TimeUnit.SECONDS);
    assertTrue(refused.startsWith("HTTP/1.1 401"), refused);
    client.waitUntilClosedOrIdleFor(10, TimeUnit.SECONDS);
    assertFalse(client.isOpen());
  }

  @Test
  void theDeadlineIsTheGracePlusTheTimeTheBytesSoFarBuy() {
    assertEquals(300_000_000L, PACE.deadlineNanos(0, 0));
    assertEquals(1_300_000_000L, PACE.deadlineNanos(0, 1000));
    assertEquals(5 + 300_000_000L + 500_000_000L, PACE.deadlineNanos(5, 500));
  }

  static String post(String path, long length) {
    return "POST " + path + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\nContent-Length: "
        + length + "\r\n\r\n";
  }
}
