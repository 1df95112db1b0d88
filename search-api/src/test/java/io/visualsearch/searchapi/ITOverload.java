package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.awt.Color;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * More searches at once than admission lets in (running plus queued), with admission's capacity
 * above the request threads a fixed pool had: the surplus must reach admission and be refused
 * with 503 at once, not wait unseen in the HTTP server's own queue.
 */
@ExtendWith(StackExtension.class)
class ITOverload {

  static final String KEY = "acme-key-0123456789abcdef";
  static final int MAX_CONCURRENT = 2;
  /** Above the 64 request threads the HTTP server used to have, whatever admission allowed. */
  static final int MAX_QUEUED = 70;
  static final int SEARCHES = MAX_CONCURRENT + MAX_QUEUED + 10;

  final ObjectMapper json = new ObjectMapper();
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();

  @Test
  void searchesBeyondRunningAndQueuedAreRefusedWhileTheOthersWait(EmbeddedStack stack) throws Exception {
    // Queue timeout and model deadline far beyond the test: while the model is held, an answer can
    // only be admission's "queue full".
    try (StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "acme:" + KEY,
        "SEARCH_MAX_CONCURRENT", Integer.toString(MAX_CONCURRENT), "SEARCH_MAX_QUEUED", Integer.toString(MAX_QUEUED),
        "SEARCH_MAX_PER_TENANT", Integer.toString(SEARCHES), // one tenant, never held back on its own here
        "SEARCH_QUEUE_TIMEOUT", "10m", "MODEL_DEADLINE", "10m", "KAFKA_GROUP_ID", "it-overload"))) {
      Map<String, float[]> vectors = new LinkedHashMap<>();
      vectors.put("overload-0", fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.GREEN)));
      vectors.put("overload-1", fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.RED)));
      for (String sku : vectors.keySet()) {
        fx.upsertProduct("acme", sku, sku, "Apparel", 1_000_000L, "in stock");
      }
      fx.publication.publish("acme", "20250101T000001Z-v1", 1, vectors, 1, fx.embeddingsEnd());
      String base = "http://127.0.0.1:" + fx.startService().httpPort();
      await().atMost(Duration.ofSeconds(60)).until(() -> search(base).join().statusCode() == 200);

      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      try (AutoCloseable held = fx.model.hold()) {
        for (int i = 0; i < SEARCHES; i++) {
          answers.add(search(base));
        }
        // While the admitted searches wait for the held model, the rest are answered.
        await("the searches beyond running and queued answered while the model is held")
            .atMost(Duration.ofSeconds(60)).until(() -> answers.stream().filter(CompletableFuture::isDone).count()
            >= SEARCHES - MAX_CONCURRENT - MAX_QUEUED);
        for (CompletableFuture<HttpResponse<String>> f : answers) {
          if (f.isDone()) {
            HttpResponse<String> r = f.join();
            assertEquals(503, r.statusCode(), r.body());
            assertEquals("overloaded", json.readTree(r.body()).get("error").asText());
            assertTrue(r.headers().firstValue("Retry-After").isPresent());
          }
        }
      }
      long answered = answers.stream().map(CompletableFuture::join).filter(r -> r.statusCode() == 200).count();
      assertEquals(MAX_CONCURRENT + MAX_QUEUED, answered, "every admitted search completes once the model answers");
    }
  }

  /**
   * gRPC callers that give up while their search waits for a slot: one whose deadline passes leaves
   * the queue then (its place goes to the next caller), and one that cancels does not hold up the
   * callers behind it (that it is not searched is {@code CallerGoneTest}'s).
   */
  @Test
  void grpcCallersThatGiveUpWhileQueuedLeaveTheirPlaceAndAreNotSearched(EmbeddedStack stack) throws Exception {
    try (StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "acme:" + KEY,
        "SEARCH_MAX_CONCURRENT", "1", "SEARCH_MAX_QUEUED", "2", "SEARCH_MAX_PER_TENANT", "10",
        "SEARCH_QUEUE_TIMEOUT", "10m", "MODEL_DEADLINE", "10m", "KAFKA_GROUP_ID", "it-overload-grpc"))) {
      Map<String, float[]> vectors = new LinkedHashMap<>();
      vectors.put("gone-0", fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.GREEN)));
      fx.upsertProduct("acme", "gone-0", "gone-0", "Apparel", 1_000_000L, "in stock");
      fx.publication.publish("acme", "20250101T000002Z-g1", 1, vectors, 1, fx.embeddingsEnd());
      SearchApiService service = fx.startService();
      String base = "http://127.0.0.1:" + service.httpPort();
      await().atMost(Duration.ofSeconds(60)).until(() -> search(base).join().statusCode() == 200);

      io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
          .forAddress("127.0.0.1", service.grpcPort()).usePlaintext().build();
      try {
        io.grpc.Metadata auth = new io.grpc.Metadata();
        auth.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "Bearer " + KEY);
        var stub = io.visualsearch.proto.search.VisualSearchGrpc.newFutureStub(channel)
            .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(auth));
        var request = io.visualsearch.proto.search.SearchRequest.newBuilder()
            .setImage(com.google.protobuf.ByteString.copyFrom(TestImages.jpeg(64, 64, Color.WHITE, Color.GREEN)))
            .setK(1).build();
        try (AutoCloseable held = fx.model.hold()) {
          var running = stub.withDeadlineAfter(60, java.util.concurrent.TimeUnit.SECONDS).search(request);
          await().atMost(Duration.ofSeconds(30)).until(() -> fx.model.heldCalls() == 1);
          // Two places in the queue: one caller with a short deadline, one that will cancel.
          var hasty = stub.withDeadlineAfter(300, java.util.concurrent.TimeUnit.MILLISECONDS).search(request);
          io.grpc.Context.CancellableContext cancelling = io.grpc.Context.current().withCancellation();
          var cancelled = cancelling.call(() -> stub.search(request));
          assertEquals(io.grpc.Status.Code.DEADLINE_EXCEEDED, codeOf(hasty));
          // The hasty caller's place is free again: a patient one takes it instead of being refused.
          var patient = stub.withDeadlineAfter(60, java.util.concurrent.TimeUnit.SECONDS).search(request);
          cancelling.cancel(null);
          assertEquals(io.grpc.Status.Code.CANCELLED, codeOf(cancelled));
          held.close();
          assertEquals("gone-0", running.get(30, java.util.concurrent.TimeUnit.SECONDS).getResults(0).getSku());
          assertEquals("gone-0", patient.get(30, java.util.concurrent.TimeUnit.SECONDS).getResults(0).getSku(),
              "queued in the place the hasty caller left");
        }
      } finally {
        channel.shutdownNow();
      }
    }
  }

  static io.grpc.Status.Code codeOf(com.google.common.util.concurrent.ListenableFuture<?> call) throws Exception {
    try {
      call.get(30, java.util.concurrent.TimeUnit.SECONDS);
      return io.grpc.Status.Code.OK;
    } catch (java.util.concurrent.ExecutionException e) {
      return io.grpc.Status.fromThrowable(e.getCause()).getCode();
    }
  }

  CompletableFuture<HttpResponse<String>> search(String base) {
    try {
      return http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/api/v1/search"))
          .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(ITAdmission.requestBody())).timeout(Duration.ofMinutes(2))
          .build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
