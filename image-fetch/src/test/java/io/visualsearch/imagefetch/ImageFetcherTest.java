package io.visualsearch.imagefetch;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every case runs against a real HTTP server on 127.0.0.1, explicitly allow-listed. */
class ImageFetcherTest {

  private static final AddressPolicy LOCAL_TEST_SERVER = AddressPolicy.allowing(List.of("127.0.0.1/32"));

  private HostileServer server;
  private ImageFetcher fetcher;

  @BeforeEach
  void start() throws Exception {
    server = new HostileServer();
    fetcher = new ImageFetcher(FetchConfig.defaults()
        .withTimeouts(Duration.ofSeconds(2), Duration.ofMillis(800), Duration.ofMillis(1500))
        .withRetries(3, Duration.ofMillis(10), Duration.ofMillis(50))
        .withMaxBytes(1 << 20), LOCAL_TEST_SERVER);
  }

  @AfterEach
  void stop() {
    fetcher.close();
    server.close();
  }

  private FetchResult.Failed failed(FetchResult result, FailureCode expected) {
    FetchResult.Failed f = assertInstanceOf(FetchResult.Failed.class, result);
    assertEquals(expected, f.code(), f.message());
    assertFalse(f.message().isBlank());
    return f;
  }

  @Test
  void fetchesBytesWithTypeAndValidators() {
    FetchResult.Fetched f = assertInstanceOf(FetchResult.Fetched.class, fetcher.fetch(server.url("/ok.png")));
    assertArrayEquals(HostileServer.IMAGE, f.body());
    assertEquals("image/png", f.contentType());
    assertEquals(HostileServer.ETAG, f.etag());
    assertEquals(HostileServer.LAST_MODIFIED, f.lastModified());
    assertEquals(server.url("/ok.png"), f.finalUrl());
  }

  @Test
  void anAttemptThatEndedLeavesNoAlarmQueued() {
    // Each left for the whole timeout held its request and woke the watchdog once for nothing.
    for (int i = 0; i < 20; i++) {
      assertInstanceOf(FetchResult.Fetched.class, fetcher.fetch(server.url("/ok.png")));
    }
    assertEquals(0, fetcher.pendingAlarms());
  }

  @Test
  void conditionalGetAnswersNotModified() {
    FetchResult.Fetched first = (FetchResult.Fetched) fetcher.fetch(server.url("/ok.png"));
    assertInstanceOf(FetchResult.NotModified.class, fetcher.fetch(server.url("/ok.png"), first.validators()));
    assertInstanceOf(FetchResult.NotModified.class,
        fetcher.fetch(server.url("/ok.png"), new CacheValidators(null, HostileServer.LAST_MODIFIED)));
  }

  @Test
  void slowTrickleIsCutOffByTheTotalTimeLimit() {
    FetchResult.Failed f = failed(fetcher.fetch(server.url("/trickle")), FailureCode.TIMEOUT);
    assertFalse(f.retriable());
    assertEquals(1, server.hits("/trickle"), "a slow server is not retried");
  }

  @Test
  void stalledBodyHitsTheReadTimeout() {
    FetchResult.Failed f = failed(fetcher.fetch(server.url("/stall")), FailureCode.TIMEOUT);
    // The read timeout (800 ms) cuts it off, not the total time limit (1500 ms) behind it.
    assertTrue(f.message().contains("stopped sending"), f.message());
  }

  @Test
  void aServerThatAcceptsAndNeverAnswersIsNoResponseNotASlowImage() throws Exception {
    // What a black-holed route or a hung host looks like from here: nothing at all comes back.
    try (ServerSocket silent = new ServerSocket(0, 8, InetAddress.getByName("127.0.0.1"))) {
      List<Socket> held = new ArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            held.add(silent.accept());
          }
        } catch (IOException e) {
          // closed
        }
      });
      acceptor.start();
      URI url = URI.create("http://127.0.0.1:" + silent.getLocalPort() + "/p.png");
      FetchResult.Failed f = failed(fetcher.fetch(url), FailureCode.NO_RESPONSE);
      assertFalse(f.retriable(), "it took the whole read timeout: not repeated at once");
      assertTrue(f.message().contains("no answer from"), f.message());
      assertEquals(null, f.redirectedTo(), "the link's own host did not answer");

      // Reached through a redirect, the failure names the target: the first host answered.
      FetchResult.Failed redirected = failed(fetcher.fetch(URI.create(server.url("/redirect-to") + "?" + url)), FailureCode.NO_RESPONSE);
      assertEquals(url, redirected.redirectedTo());
    }
  }

  @Test
  void redirectsAreFollowedToTheFinalUrl() {
    FetchResult.Fetched f = assertInstanceOf(FetchResult.Fetched.class, fetcher.fetch(server.url("/hop")));
    assertEquals(server.url("/ok.png"), f.finalUrl());
  }

  @Test
  void redirectLoopIsDetected() {
    FetchResult.Failed f = failed(fetcher.fetch(server.url("/loop-a")), FailureCode.TOO_MANY_REDIRECTS);
    assertTrue(f.message().contains("loop"), f.message());
    assertEquals(1, server.hits("/loop-a"));
  }

  @Test
  void redirectLimitIsEnforced() {
    try (ImageFetcher strict = new ImageFetcher(FetchConfig.defaults().withMaxRedirects(1), LOCAL_TEST_SERVER)) {
      failed(strict.fetch(server.url("/hop")), FailureCode.TOO_MANY_REDIRECTS);
    }
  }

  @Test
  void redirectToCloudMetadataIsBlockedBeforeConnecting() {
    FetchResult.Failed f = failed(fetcher.fetch(server.url("/to-metadata")), FailureCode.BLOCKED_ADDRESS);
    assertTrue(f.message().contains("169.254.169.254"), f.message());
    assertFalse(f.retriable());
  }

  @Test
  void redirectToPrivateNetworkIsBlocked() {
    failed(fetcher.fetch(server.url("/to-private")), FailureCode.BLOCKED_ADDRESS);
  }

  @Test
  void allowListIsExactSoAnotherLoopbackAddressStaysBlocked() {
    failed(fetcher.fetch(server.url("/to-loopback-alias")), FailureCode.BLOCKED_ADDRESS);
  }

  @Test
  void redirectToAnotherSchemeIsRefused() {
    failed(fetcher.fetch(server.url("/to-file")), FailureCode.UNSUPPORTED_SCHEME);
  }

  @Test
  void withoutTheAllowListLoopbackIsRefusedInEverySpelling() {
    int port = server.port();
    try (ImageFetcher strict = new ImageFetcher(FetchConfig.defaults(), AddressPolicy.publicOnly())) {
      for (String url : List.of("http://127.0.0.1:%d/ok.png", "http://localhost:%d/ok.png",
          "http://[::1]:%d/ok.png", "http://[::ffff:127.0.0.1]:%d/ok.png", "http://2130706433:%d/ok.png",
          "http://0.0.0.0:%d/ok.png")) {
        FetchResult result = strict.fetch(URI.create(String.format(url, port)));
        assertEquals(FailureCode.BLOCKED_ADDRESS, assertInstanceOf(FetchResult.Failed.class, result).code(), url);
      }
    }
    assertEquals(0, server.totalHits(), "no request may reach the server");
  }

  @Test
  void onlyHttpSchemesAndRealHostsAreFetched() {
    failed(fetcher.fetch(URI.create("file:///etc/passwd")), FailureCode.UNSUPPORTED_SCHEME);
    failed(fetcher.fetch(URI.create("ftp://127.0.0.1/x.png")), FailureCode.UNSUPPORTED_SCHEME);
    failed(fetcher.fetch(URI.create("http:///x.png")), FailureCode.BAD_URL);
    failed(fetcher.fetch(URI.create("http://user:pw@127.0.0.1:" + server.port() + "/ok.png")), FailureCode.BAD_URL);
  }

  @Test
  void serverErrorsAreRetriedWithBackoff() {
    assertInstanceOf(FetchResult.Fetched.class, fetcher.fetch(server.url("/flaky")));
    assertEquals(3, server.hits("/flaky"));
  }

  @Test
  void persistentServerErrorGivesUpAfterMaxAttemptsAndStaysRetriable() {
    FetchResult.Failed f = failed(fetcher.fetch(server.url("/always-500")), FailureCode.HTTP_SERVER_ERROR);
    assertTrue(f.retriable());
    assertEquals(500, f.httpStatus());
    assertEquals(3, server.hits("/always-500"));
  }

  @Test
  void rateLimitHonoursRetryAfter() {
    assertInstanceOf(FetchResult.Fetched.class, fetcher.fetch(server.url("/rate-limited")));
    assertEquals(2, server.hits("/rate-limited"));
  }

  @Test
  void clientErrorsAreNotRetried() {
    FetchResult.Failed missing = failed(fetcher.fetch(server.url("/missing")), FailureCode.NOT_FOUND);
    assertFalse(missing.retriable());
    assertEquals(1, server.hits("/missing"));
    failed(fetcher.fetch(server.url("/forbidden")), FailureCode.HTTP_CLIENT_ERROR);
    assertEquals(1, server.hits("/forbidden"));
  }

  @Test
  void connectionRefusedIsRetriable() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      port = probe.getLocalPort();
    }
    FetchResult.Failed f = failed(fetcher.fetch(URI.create("http://127.0.0.1:" + port + "/x.png")),
        FailureCode.CONNECT_FAILED);
    assertTrue(f.retriable());
  }

  @Test
  void aConnectionDroppedMidBodyIsRetried() {
    FetchResult.Fetched f = assertInstanceOf(FetchResult.Fetched.class, fetcher.fetch(server.url("/cut-short")));
    assertArrayEquals(HostileServer.IMAGE, f.body());
    assertEquals(2, server.hits("/cut-short"));
  }

  @Test
  void aConnectionDroppedMidChunkedBodyIsRetried() throws Exception {
    // The first answer promises a chunk of 1,000 bytes and the connection ends after 10: HttpCore
    // calls that a truncated chunk, not a closed connection, and it was dead-lettered for good.
    byte[] image = HostileServer.IMAGE;
    try (ServerSocket raw = new ServerSocket(0, 8, InetAddress.getByName("127.0.0.1"))) {
      AtomicInteger connections = new AtomicInteger();
      Thread answerer = new Thread(() -> {
        while (!raw.isClosed()) {
          try (Socket c = raw.accept()) {
            readRequestHead(c);
            OutputStream out = c.getOutputStream();
            if (connections.incrementAndGet() == 1) {
              out.write("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
              out.write(new byte[10]);
            } else {
              out.write(("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: " + image.length
                  + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
              out.write(image);
            }
            out.flush();
          } catch (IOException e) {
            // the server closed
          }
        }
      }, "chunked-drop-server");
      answerer.setDaemon(true);
      answerer.start();
      FetchResult result = fetcher.fetch(URI.create("http://127.0.0.1:" + raw.getLocalPort() + "/p.png"));
      FetchResult.Fetched f = assertInstanceOf(FetchResult.Fetched.class, result, result::toString);
      assertArrayEquals(image, f.body());
      assertEquals(2, connections.get());
    }
  }

  /** Reads up to the blank line, so closing the socket sends a FIN, not a reset for unread bytes. */
  private static void readRequestHead(Socket c) throws IOException {
    java.io.InputStream in = c.getInputStream();
    int matched = 0;
    for (int b; matched < 4 && (b = in.read()) >= 0; ) {
      matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
    }
  }

  @Test
  void aRequestTimeoutAnswerIsRetried() {
    FetchResult.Fetched f = assertInstanceOf(FetchResult.Fetched.class, fetcher.fetch(server.url("/408-once")));
    assertArrayEquals(HostileServer.IMAGE, f.body());
    assertEquals(2, server.hits("/408-once"));
  }

  @Test
  void anUnresolvableHostStaysRetriable() {
    FetchResult.Failed f = failed(fetcher.fetch(URI.create("http://no-such-host.invalid/x.png")),
        FailureCode.DNS_FAILURE);
    assertTrue(f.retriable(), "a DNS server failing for a moment looks the same as a missing host");
  }

  @Test
  void bodyOverTheLimitIsAbortedWhileStreaming() {
    failed(fetcher.fetch(server.url("/big-chunked")), FailureCode.TOO_LARGE);
  }

  /**
   * Closing the body's stream reads it to its end (to reuse the connection): an endless one was
   * read until the attempt's time limit, and the image too large read as a slow server's timeout.
   */
  @Test
  void anEndlessBodyIsTooLargeNotASlowServer() {
    FetchResult.Failed f = failed(fetcher.fetch(server.url("/endless-ok")), FailureCode.TOO_LARGE);
    assertFalse(f.retriable(), f.message());
    assertEquals(1, server.hits("/endless-ok"), "nothing to retry: the image is too large");
  }

  @Test
  void declaredOversizeIsRefusedWithoutReading() {
    FetchResult.Failed f = failed(fetcher.fetch(server.url("/big-declared")), FailureCode.TOO_LARGE);
    assertTrue(f.message().contains("declared 104857600"), f.message());
  }

  @Test
  void emptyBodyIsAFailure() {
    failed(fetcher.fetch(server.url("/empty")), FailureCode.IO_ERROR);
  }

  @Test
  void anEndlessErrorPageIsNotReadSoTheServerErrorIsRetried() {
    FetchResult.Failed f = failed(fetcher.fetch(server.url("/unavailable-endless")), FailureCode.HTTP_SERVER_ERROR);
    assertTrue(f.retriable(), "not a slow server's timeout: " + f.message());
    assertEquals(3, server.hits("/unavailable-endless"));
  }

  @Test
  void aNotModifiedAnswerToAPlainRequestIsAFailureNotOurOldCopy() {
    FetchResult.Failed f = failed(fetcher.fetch(server.url("/always-304")), FailureCode.HTTP_CLIENT_ERROR);
    assertFalse(f.retriable());
    assertTrue(f.message().contains("not conditional"), f.message());
    assertInstanceOf(FetchResult.NotModified.class,
        fetcher.fetch(server.url("/always-304"), new CacheValidators(HostileServer.ETAG, null)));
  }

  @Test
  void aResponseHeadBeyondTheLimitsIsAClearFailureNotBuffered() throws Exception {
    // One header line that never ends, and header lines that never end: HttpCore stops reading at
    // its limits (8 KiB a line, 100 headers), and the retailer is told why.
    for (List<String> headAndFiller : List.of(List.of("HTTP/1.1 200 OK\r\nX-Filler: ", "a"),
        List.of("HTTP/1.1 200 OK\r\n", "X-Filler: a\r\n"))) {
      try (RawHeadServer raw = new RawHeadServer(headAndFiller.get(0), headAndFiller.get(1))) {
        FetchResult.Failed f = failed(fetcher.fetch(raw.url()), FailureCode.IO_ERROR);
        assertFalse(f.retriable());
        assertTrue(f.message().contains("response head is over the limits"), f.message());
        assertEquals(1, raw.connections());
      }
    }
  }

  @Test
  void perHostConcurrencyIsBounded() throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(8);
    try (ImageFetcher limited = new ImageFetcher(FetchConfig.defaults().withMaxPerHost(2), LOCAL_TEST_SERVER)) {
      List<Future<FetchResult>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        results.add(callers.submit(() -> limited.fetch(server.url("/slow-ok"))));
      }
      for (Future<FetchResult> r : results) {
        assertInstanceOf(FetchResult.Fetched.class, r.get());
      }
    } finally {
      callers.shutdownNow();
    }
    assertEquals(8, server.hits("/slow-ok"));
    assertTrue(server.maxInFlight() <= 2, "in flight at once: " + server.maxInFlight());
  }

  @Test
  void waitingForOneOfOurOwnSlotsIsNotCountedAsTheServersTime() throws Exception {
    // The host answers each image in 1.2 s, within the 1.9 s limit; the second image waits ~1.2 s
    // for the one slot first. Counted against the limit, it was refused as too slow, for good.
    ExecutorService callers = Executors.newFixedThreadPool(2);
    try (ImageFetcher oneSlot = new ImageFetcher(FetchConfig.defaults().withMaxPerHost(1)
        .withTimeouts(Duration.ofSeconds(1), Duration.ofMillis(1700), Duration.ofMillis(1900)), LOCAL_TEST_SERVER)) {
      List<Future<FetchResult>> results = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        results.add(callers.submit(() -> oneSlot.fetch(server.url("/ok-in-1200ms"))));
      }
      for (Future<FetchResult> r : results) {
        FetchResult result = r.get();
        assertInstanceOf(FetchResult.Fetched.class, result, result::toString);
      }
    } finally {
      callers.shutdownNow();
    }
    assertEquals(2, server.hits("/ok-in-1200ms"));
  }

  /** Answers every connection with {@code head} and then {@code filler} repeated until the client hangs up. */
  private static final class RawHeadServer implements AutoCloseable {
    private final ServerSocket socket;
    private final Thread acceptor;
    private final AtomicInteger connections = new AtomicInteger();

    RawHeadServer(String head, String filler) throws IOException {
      socket = new ServerSocket(0, 8, InetAddress.getByName("127.0.0.1"));
      byte[] block = filler.repeat(64 * 1024 / filler.length()).getBytes(StandardCharsets.US_ASCII);
      acceptor = new Thread(() -> {
        while (!socket.isClosed()) {
          try (Socket c = socket.accept()) {
            connections.incrementAndGet();
            OutputStream out = c.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            while (true) {
              out.write(block);
            }
          } catch (IOException e) {
            // the client hung up, or the server closed
          }
        }
      }, "raw-head-server");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    URI url() {
      return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/head.png");
    }

    int connections() {
      return connections.get();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
