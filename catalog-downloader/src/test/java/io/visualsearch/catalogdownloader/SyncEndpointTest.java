package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** POST /sync around a stop, over the JDK's HTTP server as the ops port serves it. */
class SyncEndpointTest {

  private static final FeedLocation SOURCE = FeedLocation.parse("shop=file:///srv/feeds/shop.tsv");
  private static final FeedLocation OTHER = FeedLocation.parse("other=file:///srv/feeds/other.tsv");
  /** A source whose sync fails on our side (the store or the broker away), not on its feed. */
  private static final FeedLocation UNLUCKY = FeedLocation.parse("unlucky=file:///srv/feeds/unlucky.tsv");

  private volatile Duration drain = Duration.ofSeconds(60);
  private final CountDownLatch syncing = new CountDownLatch(1);
  private final CountDownLatch finish = new CountDownLatch(1);
  private final SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
    if (source.equals(UNLUCKY)) {
      throw new java.io.IOException("Unable to execute HTTP request: Connect to s3:9000 failed");
    }
    syncing.countDown();
    finish.await();
    return SyncReport.notModified(source.tenant(), source.display());
  }, List.of(SOURCE, OTHER, UNLUCKY), Duration.ZERO).drainWithin(() -> this.drain);
  private final SyncEndpoint endpoint = new SyncEndpoint(scheduler, Duration.ofMinutes(5));
  private HttpServer server;

  private URI start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/sync", endpoint);
    server.start();
    endpoint.start();
    scheduler.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void stop() {
    finish.countDown();
    scheduler.close();
    endpoint.close();
    if (server != null) {
      server.stop(0);
    }
  }

  private static CompletableFuture<HttpResponse<String>> post(URI base, String query) {
    return HttpClient.newHttpClient().sendAsync(HttpRequest.newBuilder(base.resolve("/sync?" + query))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A stop while a POST waited for its sync: the endpoint closed first and dropped the report, and
   * the sync job's request went unanswered until the connection died.
   */
  @Test
  void aSyncThatEndsWhileTheServiceStopsIsStillAnsweredWithItsReport() throws Exception {
    CompletableFuture<HttpResponse<String>> answer = post(start(), "tenant=shop");
    assertTrue(syncing.await(30, TimeUnit.SECONDS));
    // The service's stop, in its order: the scheduler drains the sync in hand, then the endpoint closes.
    Thread stopping = new Thread(() -> {
      scheduler.close();
      endpoint.close();
    });
    stopping.start();
    finish.countDown(); // the sync in hand ends during the drain
    stopping.join(60_000);
    HttpResponse<String> r = answer.get(30, TimeUnit.SECONDS);
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().contains("NOT_MODIFIED"), r.body());
  }

  /**
   * A sync longer than the stop's allowance waited the scheduler's own minute, past the process's
   * stop limit: the endpoint never closed and the request went unanswered; cut short, it was
   * answered 422 as a failed sync, and a request queued behind it ran a whole sync during the stop.
   */
  @Test
  void aSyncCutShortByTheStopAndOneQueuedBehindItAreAnsweredStopping() throws Exception {
    URI base = start();
    CompletableFuture<HttpResponse<String>> inHand = post(base, "tenant=shop");
    assertTrue(syncing.await(30, TimeUnit.SECONDS));
    CompletableFuture<HttpResponse<String>> queuedBehind = post(base, "tenant=other");
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
        .until(() -> scheduler.status("other").queued());
    drain = Duration.ZERO; // nothing left of the stop's allowance
    scheduler.close();
    endpoint.close();
    for (CompletableFuture<HttpResponse<String>> answer : List.of(inHand, queuedBehind)) {
      HttpResponse<String> r = answer.get(30, TimeUnit.SECONDS);
      assertEquals(503, r.statusCode(), r.body());
      assertTrue(r.body().contains("\"stopping\""), r.body());
    }
  }

  @Test
  void aRequestWhoseSyncHasNotEndedWhenTheEndpointClosesIsToldItStopped() throws Exception {
    CompletableFuture<HttpResponse<String>> answer = post(start(), "tenant=shop");
    assertTrue(syncing.await(30, TimeUnit.SECONDS));
    endpoint.close();
    HttpResponse<String> r = answer.get(30, TimeUnit.SECONDS);
    assertEquals(503, r.statusCode(), r.body());
    assertTrue(r.body().contains("\"stopping\""), r.body());
    assertEquals("5", r.headers().firstValue("Retry-After").orElse(""));
  }

  /**
   * A sync that failed on our side was answered 422 like a refused feed: a retailer's sync job
   * reads a 4xx as its own feed's fault, and stopped retrying through a store outage.
   */
  @Test
  void aSyncThatFailedOnOurSideIsAnswered503WithItsReportAndWhenToRetry() throws Exception {
    HttpResponse<String> r = post(start(), "tenant=unlucky").get(30, TimeUnit.SECONDS);
    assertEquals(503, r.statusCode(), r.body());
    assertTrue(r.body().contains("\"FAILED\"") && r.body().contains("Connect to s3:9000 failed"), r.body());
    assertEquals(SyncEndpoint.FAILED_RETRY_AFTER_SECONDS, r.headers().firstValue("Retry-After").orElse(""));
  }
}
