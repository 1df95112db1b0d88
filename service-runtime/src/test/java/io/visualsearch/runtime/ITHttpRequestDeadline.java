package io.visualsearch.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real service process, started through {@link ServiceMain}, whose two ops threads are taken by
 * clients that stop mid-request: its liveness endpoint must answer again once they are cut off.
 * A process of its own because the JDK reads the limit once, when the first HTTP server of the
 * process is created, and this test JVM may have created one already.
 */
class ITHttpRequestDeadline {

  /** Far above the 2 s limit under test: only a server that never cuts the stalled requests misses it. */
  private static final int PATIENCE_MILLIS = 40_000;

  @TempDir
  Path dir;

  @Test
  void clientsStalledMidRequestAreDisconnectedAndLivenessAnswersAgain() throws Exception {
    try (OpsOnlyProcess service = OpsOnlyProcess.start(dir, Map.of("SERVICE_HTTP_REQUEST_TIMEOUT", "2s"))) {
      int port = service.port;
      // One stops inside its head, one inside its body: together they hold both ops threads.
      try (Socket head = send(port, "GET /healthz HTTP/1.1\r\nHost: ops\r\n");
          Socket body = send(port, "POST /healthz HTTP/1.1\r\nHost: ops\r\nContent-Length: 1000\r\n\r\nab")) {
        assertTrue(closedByServer(head), "a request stalled in its head was disconnected");
        assertTrue(closedByServer(body), "a request stalled in its body was disconnected");
        // Requests queued behind the stalled ones meanwhile may have been cut with them (the limit
        // counts from the connection's accept); a probe sent now has the threads back.
        assertEquals("HTTP/1.1 200 OK", statusLine(port), "liveness answers once the stalled requests are cut");
      }
    }
  }

  private static Socket send(int port, String partialRequest) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.getOutputStream().write(partialRequest.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return s;
  }

  private static String statusLine(int port) throws IOException {
    try (Socket s = send(port, "GET /healthz HTTP/1.1\r\nHost: ops\r\nConnection: close\r\n\r\n")) {
      s.setSoTimeout(PATIENCE_MILLIS);
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      return answer.lines().findFirst().orElse("");
    }
  }

  /** True when the server closed the connection (after answering or not), false if it is still open. */
  private static boolean closedByServer(Socket s) throws IOException {
    s.setSoTimeout(PATIENCE_MILLIS);
    InputStream in = s.getInputStream();
    try {
      while (in.read() >= 0) {
        // an answer sent before the close (the body one may get its 200 first)
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }
}
