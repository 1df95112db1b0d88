package io.visualsearch.searchapi.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.searchapi.ApiException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link UploadReader} inside a real Jetty, over connections the test feeds by hand:
 * bodies that keep pace are read whole, trickling ones are answered 408 and cut off, refused ones
 * are drained only while they arrive within the budget.
 */
class UploadReaderTest {

  /** A pace a test can fall behind of quickly: nothing for 300 ms, then 1000 bytes a second. */
  static final UploadPace PACE = new UploadPace(1000, Duration.ofMillis(300));
  static final Duration DRAIN = Duration.ofMillis(300);
  static final long MAX_BYTES = 1000;

  final UploadReader reader = new UploadReader(PACE, DRAIN, UploadBudget.ofHeap(Runtime.getRuntime().maxMemory()),
      Admission.withoutQueue("uploads", 100, 100));
  /** Room for three 600-byte uploads at once, read at a pace that waits for them as long as any test runs. */
  final UploadBudget threeUploads = new UploadBudget(3 * UploadBudget.costOf(600));
  /** Request threads for uploads: four, a tenant's two at most. */
  final Admission fourPlaces = Admission.withoutQueue("uploads", 4, 2);
  final UploadReader budgeted = new UploadReader(new UploadPace(1000, Duration.ofSeconds(60)), DRAIN, threeUploads,
      fourPlaces);
  /** Bytes enough for any number of uploads, places for a tenant's two: only the places bound them. */
  final UploadReader placesOnly = new UploadReader(new UploadPace(1000, Duration.ofSeconds(60)), DRAIN,
      new UploadBudget(1L << 30), fourPlaces);
  final AtomicLong unreadAfterDiscard = new AtomicLong(-1);
  Server server;
  int port;

  @BeforeEach
  void start() throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    server.addConnector(connector);
    server.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        int status = 200;
        String text;
        try {
          String path = request.getHttpURI().getPath();
          if (path.startsWith("/refuse")) {
            reader.discard(request, 2 * MAX_BYTES);
            if (path.equals("/refuse-and-count")) {
              // What discard left of the bytes that had arrived, read without waiting.
              Content.Chunk left = request.read();
              unreadAfterDiscard.set(left == null ? 0 : left.remaining());
              if (left != null) {
                left.release();
              }
            }
            status = 401;
            text = "refused";
          } else if (path.startsWith("/places/")) {
            text = "read " + placesOnly.read(request, path.substring("/places/".length()), MAX_BYTES).length;
          } else if (path.startsWith("/budgeted/")) {
            text = "read " + budgeted.read(request, path.substring("/budgeted/".length()), MAX_BYTES).length;
          } else {
            text = "read " + reader.read(request, "tenant", MAX_BYTES).length;
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
    port = connector.getLocalPort();
  }

  @AfterEach
  void stop() throws Exception {
    server.stop();
  }

  @Test
  void aBodyThatKeepsPaceIsReadWhole() throws Exception {
    String answer = SocketClient.exchange(port, post("/read", 600) + "x".repeat(600));
    assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
    assertTrue(answer.endsWith("read 600"), answer);
  }

  @Test
  void aBodyDeclaredOverTheCapIsRefusedUnread() throws Exception {
    String answer = SocketClient.exchange(port, post("/read", MAX_BYTES + 1));
    assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
  }

  @Test
  void aTricklingBodyIsAnswered408AndItsConnectionClosed() throws Exception {
    SocketClient client = SocketClient.connect(port);
    client.send(post("/read", 600) + "x".repeat(10));
    String answer = client.response();
    assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
    assertTrue(answer.endsWith("upload_too_slow"), answer);
    assertTrue(client.closedWithin(), "the rest of a trickling body is not waited for on a later request either");
  }

  @Test
  void aRefusedBodyThatStallsIsLeftUnreadAndItsConnectionClosed() throws Exception {
    SocketClient client = SocketClient.connect(port);
    client.send(post("/refuse", 1500) + "x".repeat(10));
    String refused = client.response();
    assertTrue(refused.startsWith("HTTP/1.1 401"), refused);
    assertTrue(client.closedWithin());
  }

  @Test
  void aRefusedBodyOverTwiceTheCapIsNotDrainedAtAll() throws Exception {
    SocketClient client = SocketClient.connect(port);
    client.send(post("/refuse-and-count", 2 * MAX_BYTES + 1) + "x".repeat(10));
    String refused = client.response();
    assertTrue(refused.startsWith("HTTP/1.1 401"), refused);
    assertEquals(10, unreadAfterDiscard.get(), "not one byte of a body that large is read");
    assertTrue(client.closedWithin());
  }

  @Test
  void withRoomForThreeUploadsTheFourthIsRefusedAtOnceAndTheRoomReturnsWhenTheyAreAnswered() throws Exception {
    SocketClient[] reading = new SocketClient[3];
    for (int i = 0; i < reading.length; i++) {
      reading[i] = SocketClient.connect(port);
      reading[i].send(post("/budgeted/tenant-" + i, 600) + "x".repeat(100));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (threeUploads.available() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(0, threeUploads.available(), "three uploads being read hold the whole budget");
    // Its whole body is there: without the budget it would be read and answered 200.
    String fourth = SocketClient.exchange(port, post("/budgeted/tenant-3", 600) + "x".repeat(600));
    assertTrue(fourth.startsWith("HTTP/1.1 503"), fourth);
    assertTrue(fourth.endsWith("overloaded"), fourth);
    for (SocketClient client : reading) {
      client.send("x".repeat(500));
      String answer = client.response();
      assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("read 600"), answer);
    }
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (threeUploads.available() < threeUploads.capacity() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(threeUploads.capacity(), threeUploads.available(), "each answered request gave its share back");
    String next = SocketClient.exchange(port, post("/budgeted/tenant-3", 600) + "x".repeat(600));
    assertTrue(next.startsWith("HTTP/1.1 200") && next.endsWith("read 600"), next);
  }

  @Test
  void oneTenantsUploadsHoldAtMostItsShareWhileOthersAreStillRead() throws Exception {
    // The budget has room for three uploads, a tenant's share for one and a half: acme has one
    // upload being read.
    UploadBudget.Reservation acmeReading = threeUploads.reserve("acme", UploadBudget.costOf(600));
    String second = SocketClient.exchange(port, post("/budgeted/acme", 600) + "x".repeat(600));
    assertTrue(second.startsWith("HTTP/1.1 503") && second.endsWith("tenant_overloaded"), second);
    String other = SocketClient.exchange(port, post("/budgeted/globex", 600) + "x".repeat(600));
    assertTrue(other.startsWith("HTTP/1.1 200") && other.endsWith("read 600"), "another tenant is read: " + other);
    acmeReading.close();
    String next = SocketClient.exchange(port, post("/budgeted/acme", 600) + "x".repeat(600));
    assertTrue(next.startsWith("HTTP/1.1 200") && next.endsWith("read 600"), next);
  }

  /**
   * One key trickling small bodies (a storefront's key is in every shopper's browser) held every
   * request thread while its bytes stayed far within its share: a tenant's uploads hold at most
   * its places, and another tenant's are still read.
   */
  @Test
  void oneTenantsTricklingUploadsHoldAtMostItsPlacesWhileOthersAreStillRead() throws Exception {
    SocketClient[] trickling = new SocketClient[2];
    for (int i = 0; i < trickling.length; i++) {
      trickling[i] = SocketClient.connect(port);
      trickling[i].send(post("/places/acme", 600) + "x".repeat(10));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (fourPlaces.heldBy("acme") < 2 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(2, fourPlaces.heldBy("acme"), "acme's two uploads are being read");
    String third = SocketClient.exchange(port, post("/places/acme", 600) + "x".repeat(600));
    assertTrue(third.startsWith("HTTP/1.1 503") && third.endsWith("tenant_overloaded"), third);
    String other = SocketClient.exchange(port, post("/places/globex", 600) + "x".repeat(600));
    assertTrue(other.startsWith("HTTP/1.1 200") && other.endsWith("read 600"), "another tenant is read: " + other);
    for (SocketClient client : trickling) {
      client.send("x".repeat(590));
      String answer = client.response();
      assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("read 600"), answer);
    }
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (fourPlaces.heldBy("acme") > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    String next = SocketClient.exchange(port, post("/places/acme", 600) + "x".repeat(600));
    assertTrue(next.startsWith("HTTP/1.1 200") && next.endsWith("read 600"), "its places came back: " + next);
  }

  /** Several leaked keys, each within its share, filled every request thread: all uploads hold at most the places. */
  @Test
  void uploadsOfSeveralTenantsHoldAtMostThePlacesAndAnotherIsRefusedAtOnce() throws Exception {
    List<SocketClient> trickling = new ArrayList<>();
    for (String tenant : new String[] {"acme", "acme", "globex", "globex"}) {
      SocketClient client = SocketClient.connect(port);
      client.send(post("/places/" + tenant, 600) + "x".repeat(10));
      trickling.add(client);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (fourPlaces.heldBy("acme") + fourPlaces.heldBy("globex") < 4 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    String third = SocketClient.exchange(port, post("/places/initech", 600) + "x".repeat(600));
    assertTrue(third.startsWith("HTTP/1.1 503") && third.endsWith("overloaded") && !third.endsWith("tenant_overloaded"),
        third);
    for (SocketClient client : trickling) {
      client.send("x".repeat(590));
      String answer = client.response();
      assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("read 600"), answer);
    }
  }

  @Test
  void aChunkedBodyIsReadWholeWithinTheBudget() throws Exception {
    String chunked = "POST /budgeted/tenant HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "190\r\n" + "y".repeat(400) + "\r\n" + "c8\r\n" + "z".repeat(200) + "\r\n0\r\n\r\n";
    String answer = SocketClient.exchange(port, chunked);
    assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("read 600"), answer);
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
