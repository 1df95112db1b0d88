package io.visualsearch.searchapi.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.visualsearch.searchapi.StackFixture;
import io.visualsearch.searchapi.TestImages;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * More connections trickling uploads than the API has request threads, each sending one byte more
 * often than the idle timeout (so that timeout never ends them): searches and the API port's
 * {@code /healthz} must still be answered. Before a minimum upload rate they waited unseen in
 * Jetty's queue for as long as the uploads trickled, while the probes on the ops port said ready.
 */
@ExtendWith(StackExtension.class)
class ITTricklingUploads {

  static final String KEY = "acme-key-0123456789abcdef";
  static final int MAX_CONCURRENT = 1;
  static final int MAX_QUEUED = 0;
  /** Jetty's acceptors (at most 4) and selectors (at most half the cores): threads it keeps for good. */
  static final int JETTY_LEASED_AT_MOST = 4 + Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
  static final int TRICKLERS = HttpApi.maxThreads(MAX_CONCURRENT + MAX_QUEUED, JETTY_LEASED_AT_MOST) + 8;
  /** Well below the 30 s idle timeout, which restarts with every byte. */
  static final Duration TRICKLE_EVERY = Duration.ofSeconds(2);
  /** A liveness bound: without the fix these requests are not answered at all while the trickle lasts. */
  static final Duration ANSWERED_WITHIN = Duration.ofSeconds(30);

  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();

  @Test
  void searchesAndHealthzAreAnsweredWhileMoreUploadsThanThreadsTrickle(EmbeddedStack stack) throws Exception {
    try (StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "acme:" + KEY,
        "SEARCH_MAX_CONCURRENT", Integer.toString(MAX_CONCURRENT), "SEARCH_MAX_QUEUED", Integer.toString(MAX_QUEUED),
        "KAFKA_GROUP_ID", "it-trickling-uploads"))) {
      Map<String, float[]> vectors = new LinkedHashMap<>();
      vectors.put("trickle-0", fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.GREEN)));
      vectors.put("trickle-1", fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.RED)));
      for (String sku : vectors.keySet()) {
        fx.upsertProduct("acme", sku, sku, "Apparel", 1_000_000L, "in stock");
      }
      fx.publication.publish("acme", "20250101T000001Z-v1", 1, vectors, 1, fx.embeddingsEnd());
      int port = fx.startService().httpPort();
      String base = "http://127.0.0.1:" + port;
      await().atMost(Duration.ofSeconds(60)).until(() -> search(base).join().statusCode() == 200);

      List<Socket> tricklers = new ArrayList<>();
      ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
      try {
        for (int i = 0; i < TRICKLERS; i++) {
          tricklers.add(openTrickler(port, i));
        }
        trickle.scheduleWithFixedDelay(() -> tricklers.forEach(ITTricklingUploads::sendOneByte),
            0, TRICKLE_EVERY.toMillis(), TimeUnit.MILLISECONDS);

        CompletableFuture<HttpResponse<String>> healthz = http.sendAsync(HttpRequest.newBuilder(
            URI.create(base + "/healthz")).timeout(ANSWERED_WITHIN).build(), HttpResponse.BodyHandlers.ofString());
        CompletableFuture<HttpResponse<String>> search = search(base);
        assertEquals(200, answered(healthz, "GET /healthz on the API port").statusCode());
        HttpResponse<String> searched = answered(search, "a search");
        assertEquals(200, searched.statusCode(), searched.body());
      } finally {
        trickle.shutdownNow();
        for (Socket s : tricklers) {
          s.close();
        }
      }
    }
  }

  /**
   * The three ways a trickle reached a request thread: a key and a body the server reads, a key
   * and a declared body over the cap (refused, then drained), no key at all (refused, then drained).
   */
  static Socket openTrickler(int port, int i) throws IOException {
    String auth = i % 3 == 2 ? "" : "Authorization: Bearer " + KEY + "\r\n";
    long length = i % 3 == 0 ? 1_000_000 : 20_000_000;
    Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
    s.getOutputStream().write(("POST /api/v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth
        + "Content-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return s;
  }

  static void sendOneByte(Socket s) {
    try {
      OutputStream out = s.getOutputStream();
      out.write('{');
      out.flush();
    } catch (IOException e) {
      // The server gave up on this upload: what the test wants it to be able to do.
    }
  }

  static HttpResponse<String> answered(CompletableFuture<HttpResponse<String>> request, String what) {
    try {
      return request.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof HttpTimeoutException) {
        fail(what + " was not answered within " + ANSWERED_WITHIN + " while " + TRICKLERS + " uploads trickled");
      }
      throw e;
    }
  }

  CompletableFuture<HttpResponse<String>> search(String base) {
    String image = Base64.getEncoder().encodeToString(TestImages.jpeg(64, 64, Color.WHITE, Color.GREEN));
    byte[] body = ("{\"image_base64\":\"" + image + "\",\"k\":2}").getBytes(StandardCharsets.UTF_8);
    return http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/api/v1/search"))
        .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).timeout(ANSWERED_WITHIN).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
