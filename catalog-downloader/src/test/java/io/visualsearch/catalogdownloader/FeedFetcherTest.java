package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.visualsearch.catalogfeed.FeedRefusedException;
import io.visualsearch.imagefetch.AddressPolicy;
import io.visualsearch.runtime.ScratchDirectory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeedFetcherTest {

  /** The test's feed server, on loopback, allowed as an operator allows an internal feed host. */
  static final AddressPolicy LOCAL = AddressPolicy.allowing(List.of("127.0.0.1/32"));

  HttpServer server;
  final CountDownLatch release = new CountDownLatch(1);

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/stalls", exchange -> {
      // Headers and the first bytes, then nothing: a feed server that hangs mid-body.
      exchange.sendResponseHeaders(200, 1_000_000);
      OutputStream body = exchange.getResponseBody();
      body.write("id\ttitle\n".getBytes(StandardCharsets.UTF_8));
      body.flush();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      exchange.close();
    });
    server.createContext("/endless", exchange -> {
      // A feed that never ends (a misconfigured export streaming in a loop), chunked, until hung up on.
      exchange.sendResponseHeaders(200, 0);
      byte[] block = "id\ttitle\n".repeat(1000).getBytes(StandardCharsets.UTF_8);
      try (OutputStream body = exchange.getResponseBody()) {
        for (long end = System.nanoTime() + 120_000_000_000L; System.nanoTime() < end; ) {
          body.write(block);
        }
      } catch (IOException hungUp) {
        // the fetcher gave up on it
      }
    });
    server.createContext("/conditional", exchange -> {
      // A feed server that answers 304 to its own ETag: the file has not changed.
      if ("\"v1\"".equals(exchange.getRequestHeaders().getFirst("If-None-Match"))) {
        exchange.sendResponseHeaders(304, -1);
        exchange.close();
        return;
      }
      byte[] feed = "id\ttitle\n1\tshirt\n".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("ETag", "\"v1\"");
      exchange.sendResponseHeaders(200, feed.length);
      exchange.getResponseBody().write(feed);
      exchange.close();
    });
    server.createContext("/feed", exchange -> {
      byte[] feed = "id\ttitle\n1\tshirt\n".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("ETag", "\"v1\"");
      exchange.sendResponseHeaders(200, feed.length);
      exchange.getResponseBody().write(feed);
      exchange.close();
    });
    server.createContext("/moved", exchange -> {
      // The retailer's server sends us on, to where it wants us to look.
      String target = exchange.getRequestURI().getQuery();
      exchange.getResponseHeaders().add("Location", target.replace("PORT",
          Integer.toString(server.getAddress().getPort())));
      exchange.sendResponseHeaders(302, -1);
      exchange.close();
    });
    server.createContext("/moved-closing", exchange -> {
      // As /moved, on a connection the server ends: the redirect needs a new one, and a new lookup.
      exchange.getResponseHeaders().add("Location", exchange.getRequestURI().getQuery().replace("PORT",
          Integer.toString(server.getAddress().getPort())));
      exchange.getResponseHeaders().add("Connection", "close");
      exchange.sendResponseHeaders(302, -1);
      exchange.close();
    });
    server.createContext("/private", exchange -> {
      // A feed behind HTTP basic authentication, as a URL with user:password@ asks for, that never
    // challenges: the credentials must come with the first request.
      String expected = "Basic " + java.util.Base64.getEncoder().encodeToString(
          "feeds:p@ss w0rd".getBytes(StandardCharsets.UTF_8));
      if (!expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
        // No challenge: a private feed answers an anonymous request as if there were nothing.
        exchange.sendResponseHeaders(403, -1);
        exchange.close();
        return;
      }
      byte[] feed = "id\ttitle\n1\tshirt\n".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, feed.length);
      exchange.getResponseBody().write(feed);
      exchange.close();
    });
    server.createContext("/loop", exchange -> {
      // A server that sends the download back to where it started, token and all.
      exchange.getResponseHeaders().add("Location", exchange.getRequestURI().toString());
      exchange.sendResponseHeaders(302, -1);
      exchange.close();
    });
    server.createContext("/status/", exchange -> {
      // The feed host answers the status its path names: /status/404, /status/503.
      String path = exchange.getRequestURI().getPath();
      exchange.sendResponseHeaders(Integer.parseInt(path.substring(path.lastIndexOf('/') + 1)), -1);
      exchange.close();
    });
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.start();
  }

  @AfterEach
  void stop() {
    release.countDown();
    server.stop(0);
  }

  FeedLocation at(String path) {
    return new FeedLocation("acme", URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path));
  }

  @Test
  void aServerThatStopsSendingMidBodyFailsTheDownloadInsteadOfHangingTheSync() {
    FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(1), 1L << 30, bucket -> null, LOCAL);
    // A bound on a hang, not a measurement: without the download limit this call never returns.
    IOException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
        () -> assertThrows(IOException.class, () -> fetcher.fetch(at("/stalls"), SourceState.NONE)));
    assertTrue(e.getMessage().contains("/stalls"), e.getMessage());
  }

  @Test
  void aServerDribblingItsHeadersIsCutOffAtTheDownloadLimit() throws Exception {
    // A byte every 200 ms: never silent long enough for a read timeout, and headers never end.
    try (ServerSocket dribbler = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      Thread serving = new Thread(() -> {
        try (Socket c = dribbler.accept()) {
          OutputStream out = c.getOutputStream();
          out.write("HTTP/1.1 200 OK\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
          while (true) {
            out.write('a');
            out.flush();
            Thread.sleep(200);
          }
        } catch (IOException | InterruptedException e) {
          // the fetcher hung up
        }
      }, "dribbler");
      serving.setDaemon(true);
      serving.start();
      FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(1), 1L << 30, bucket -> null, LOCAL);
      FeedLocation slow = new FeedLocation("acme", URI.create("http://127.0.0.1:" + dribbler.getLocalPort() + "/feed"));
      // A bound on a hang, not a measurement: without the alarm this call returns after half an hour.
      IOException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
          () -> assertThrows(IOException.class, () -> fetcher.fetch(slow, SourceState.NONE)));
      assertTrue(e.getMessage().contains("took longer than PT1S"), e.getMessage());
    }
  }

  @Test
  void aRedirectIsFollowedOnTheFeedsOwnHostButNeverToAnotherNonPublicAddress() throws Exception {
    FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(30), 1L << 30, bucket -> null, LOCAL);
    FeedFetcher.Fetched f = fetcher.fetch(at("/moved?http://127.0.0.1:PORT/feed"), SourceState.NONE).orElseThrow();
    Files.deleteIfExists(f.file());
    for (String elsewhere : List.of("http://127.0.0.2:PORT/feed", "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/feed")) {
      IOException e = assertThrows(IOException.class, () -> fetcher.fetch(at("/moved?" + elsewhere), SourceState.NONE));
      assertTrue(e.getMessage().contains("non-public address"), elsewhere + ": " + e.getMessage());
    }
  }

  @Test
  void theFeedHostCannotRebindToAnotherInternalAddressForASameHostRedirect() throws Exception {
    // feeds.retailer.example first points at the feed server, then (zero TTL) at another internal
    // address: trusting the name, the download followed it there.
    Deque<String> answers = new ArrayDeque<>(List.of("127.0.0.1", "127.0.0.2"));
    List<String> asked = new ArrayList<>();
    FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(30), 1L << 30, bucket -> null,
        Path.of(System.getProperty("java.io.tmpdir")), LOCAL, host -> {
          asked.add(host);
          return new InetAddress[] {InetAddress.getByName(answers.remove())};
        });
    String feedHost = "http://feeds.retailer.example:" + server.getAddress().getPort();
    FeedLocation location = new FeedLocation("acme", URI.create(feedHost + "/moved-closing?" + feedHost + "/feed"));
    IOException e = assertThrows(FeedUnusableException.class, () -> fetcher.fetch(location, SourceState.NONE));
    assertTrue(e.getMessage().contains("non-public address"), e.getMessage());
    assertEquals(List.of("feeds.retailer.example", "feeds.retailer.example"), asked);
  }

  /**
   * The retailer runs its feed host's DNS: pointing it at the cloud's metadata service (or any
   * address inside the cluster) for one download sent the downloader there, as the host's first
   * answer of each download was trusted.
   */
  @Test
  void aFeedHostWhoseDnsPointsInsideIsRefusedUnlessTheOperatorAllowedThatAddress() throws Exception {
    FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(30), 1L << 30, bucket -> null,
        Path.of(System.getProperty("java.io.tmpdir")), AddressPolicy.publicOnly(),
        host -> new InetAddress[] {InetAddress.getByName("169.254.169.254")});
    FeedLocation location = new FeedLocation("acme", URI.create("http://feeds.retailer.example/feed.tsv"));
    IOException e = assertThrows(FeedUnusableException.class, () -> fetcher.fetch(location, SourceState.NONE));
    assertTrue(e.getMessage().contains("non-public address"), e.getMessage());
  }

  @Test
  void anAllowedInternalFeedHostStaysReachableForASameHostRedirect() throws Exception {
    FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(30), 1L << 30, bucket -> null,
        Path.of(System.getProperty("java.io.tmpdir")), LOCAL, host -> new InetAddress[] {InetAddress.getByName("127.0.0.1")});
    String feedHost = "http://feeds.corp.example:" + server.getAddress().getPort();
    FeedLocation location = new FeedLocation("acme", URI.create(feedHost + "/moved-closing?" + feedHost + "/feed"));
    FeedFetcher.Fetched f = fetcher.fetch(location, SourceState.NONE).orElseThrow();
    try {
      assertEquals("id\ttitle\n1\tshirt\n", Files.readString(f.file()));
    } finally {
      Files.deleteIfExists(f.file());
    }
  }

  @Test
  void aFeedIsSpooledIntoTheInstancesScratchDirectory(@TempDir Path root) throws Exception {
    // A sync killed mid-download leaves its spool there, where the next instance's start removes it.
    ScratchDirectory scratch = new ScratchDirectory(root);
    scratch.start();
    try {
      FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(30), 1L << 30, bucket -> null, scratch.path(), LOCAL);
      FeedFetcher.Fetched f = fetcher.fetch(at("/moved?http://127.0.0.1:PORT/feed"), SourceState.NONE).orElseThrow();
      assertEquals(scratch.path(), f.file().getParent());
      Files.deleteIfExists(f.file());
    } finally {
      scratch.close();
    }
  }

  /**
   * Closing the body's stream reads it to its end (to reuse the connection): a feed past the size
   * limit was read on until the download's time limit, and reported as a slow server.
   */
  @Test
  void aFeedPastTheSizeLimitIsAbandonedAtTheLimitAndSaysSo() {
    FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(30), 1 << 20, bucket -> null, LOCAL);
    FeedUnusableException e = assertThrows(FeedUnusableException.class,
        () -> fetcher.fetch(at("/endless"), SourceState.NONE));
    assertTrue(e.getMessage().contains("larger than 1048576 bytes"), e.getMessage());
    assertEquals(FeedRefusedException.Reason.TOO_LARGE, e.refusal().reason());
  }

  /**
   * A feed host's 404 (or 403, 410) is the retailer's to fix, and the sync refuses the feed; a 5xx,
   * a 408 or a 429 is its outage or its load, and the sync fails, to be tried again.
   */
  @Test
  void aFeedHostsClientErrorIsTheFeedsFaultAndItsOutageIsWorthARetry(@TempDir Path dir) throws Exception {
    FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(30), 1L << 30, bucket -> null, dir, LOCAL);
    for (int code : new int[] {403, 404, 410}) {
      FeedUnusableException e = assertThrows(FeedUnusableException.class,
          () -> fetcher.fetch(at("/status/" + code), SourceState.NONE));
      assertEquals(FeedRefusedException.Reason.UNAVAILABLE, e.refusal().reason());
      assertTrue(e.getMessage().contains("answered HTTP " + code), e.getMessage());
    }
    for (int code : new int[] {408, 429, 500, 503}) {
      IOException e = assertThrows(IOException.class, () -> fetcher.fetch(at("/status/" + code), SourceState.NONE));
      assertFalse(e instanceof FeedUnusableException, code + " is worth a retry: " + e);
    }
    FeedLocation missing = new FeedLocation("acme", dir.resolve("no-such-feed.tsv").toUri());
    assertThrows(FeedUnusableException.class, () -> fetcher.fetch(missing, SourceState.NONE));
  }

  /** user:password@ in a feed URL is HTTP basic authentication to the feed's own host. */
  @Test
  void aFeedUrlWithUserAndPasswordAuthenticatesToItsHost(@TempDir Path dir) throws Exception {
    FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(30), 1L << 30, bucket -> null, dir, LOCAL);
    FeedLocation location = new FeedLocation("acme", URI.create("http://feeds:p%40ss%20w0rd@127.0.0.1:"
        + server.getAddress().getPort() + "/private"));
    FeedFetcher.Fetched f = fetcher.fetch(location, SourceState.NONE).orElseThrow();
    assertEquals("id\ttitle\n1\tshirt\n", Files.readString(f.file()));
    FeedLocation wrong = new FeedLocation("acme", URI.create("http://feeds:guess@127.0.0.1:"
        + server.getAddress().getPort() + "/private"));
    FeedUnusableException refused = assertThrows(FeedUnusableException.class,
        () -> fetcher.fetch(wrong, SourceState.NONE));
    assertTrue(refused.getMessage().contains("answered HTTP 403"), refused.getMessage());
    assertFalse(refused.getMessage().contains("guess"), refused.getMessage());
    // The feed's host sends the download on to another host: that one is sent no credentials.
    FeedLocation elsewhere = new FeedLocation("acme", URI.create("http://feeds:p%40ss%20w0rd@127.0.0.1:"
        + server.getAddress().getPort() + "/moved?http://localhost:PORT/private"));
    FeedUnusableException notSent = assertThrows(FeedUnusableException.class,
        () -> fetcher.fetch(elsewhere, SourceState.NONE));
    assertTrue(notSent.getMessage().contains("answered HTTP 403"), notSent.getMessage());
  }

  @Test
  void onlyAnAnswerThatMayChangeOnItsOwnIsWorthARetry() {
    for (int code : new int[] {500, 502, 503, 504, 408, 421, 429}) {
      assertTrue(FeedFetcher.worthARetry(code), Integer.toString(code));
    }
    for (int code : new int[] {204, 206, 300, 301, 400, 401, 403, 404, 410}) {
      assertFalse(FeedFetcher.worthARetry(code), Integer.toString(code));
    }
  }

  /**
   * The HTTP client's words for a redirect it cannot follow quote the whole target: a feed whose
   * server loops put the retailer's token into the sync report, its trace and the log.
   */
  @Test
  void aRedirectLoopIsRefusedWithoutQuotingTheUrl(@TempDir Path dir) {
    FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(30), 1L << 30, bucket -> null, dir, LOCAL);
    FeedUnusableException e = assertThrows(FeedUnusableException.class,
        () -> fetcher.fetch(at("/loop?token=s3cr3t"), SourceState.NONE));
    assertTrue(e.getMessage().contains("could not be followed"), e.getMessage());
    assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
    assertEquals(null, e.getCause(), "nor in a cause a trace or log would print");
  }

  /**
   * A release that hashes rows differently (a new normalisation, a relaxed row rule) must read
   * every feed again: a server answering "not modified" kept the old catalog records for as long
   * as the retailer's file did not change.
   */
  @Test
  void validatorsOfADownloadHashedAnotherWayDoNotMakeItConditional() throws Exception {
    FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(30), 1L << 30, bucket -> null, LOCAL);
    FeedLocation location = at("/conditional");
    String uri = location.uri().toString();
    assertTrue(fetcher.fetch(location, SourceState.of(uri, "\"v1\"", null)).isEmpty(), "hashed as now: 304");
    FeedFetcher.Fetched f = fetcher.fetch(location, new SourceState(SourceState.sha256(uri), "\"v1\"", null, 0))
        .orElseThrow();
    try {
      assertEquals(io.visualsearch.catalogfeed.ProductHasher.ENCODING_VERSION, f.state().encoding());
    } finally {
      Files.deleteIfExists(f.file());
    }
  }

  @Test
  void aFileFeedIsReadWithinTheSizeLimit() throws Exception {
    FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(30), 1 << 20, bucket -> null, LOCAL);
    // A file that never ends: copied whole before the size check, it filled the spool's disk.
    FeedLocation endless = new FeedLocation("acme", URI.create("file:///dev/zero"));
    IOException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
        () -> assertThrows(IOException.class, () -> fetcher.fetch(endless, SourceState.NONE)));
    assertTrue(e.getMessage().contains("larger than 1048576 bytes"), e.getMessage());
  }

  @Test
  void aFeedIsDownloadedWithItsValidators() throws Exception {
    FeedFetcher fetcher = new FeedFetcher(Duration.ofSeconds(30), 1L << 30, bucket -> null, LOCAL);
    FeedFetcher.Fetched f = fetcher.fetch(at("/feed"), SourceState.NONE).orElseThrow();
    try {
      assertEquals("id\ttitle\n1\tshirt\n", Files.readString(f.file()));
      assertEquals("\"v1\"", f.state().etag());
    } finally {
      Files.deleteIfExists(f.file());
    }
  }
}
