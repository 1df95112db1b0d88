package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.visualsearch.proto.search.SearchRequest;
import io.visualsearch.proto.search.VisualSearchGrpc;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.awt.Color;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Stopping search-api (SIGTERM on a rollout or a node drain) lets the searches already in flight
 * finish and answer, instead of cutting their connections.
 */
@ExtendWith(StackExtension.class)
class ITStopDrainsSearches {

  static final String KEY = "acme-key-0123456789abcdef";

  @Test
  void aSearchInFlightWhenTheServiceStopsIsStillAnswered(EmbeddedStack stack) throws Exception {
    try (StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "acme:" + KEY,
        "KAFKA_GROUP_ID", "it-stop-drains"))) {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      URI uri = serveOneShirt(fx, http);

      CompletableFuture<HttpResponse<String>> inFlight;
      CompletableFuture<Void> stopping;
      try (AutoCloseable held = fx.model.hold()) {
        inFlight = CompletableFuture.supplyAsync(() -> {
          try {
            return search(http, uri);
          } catch (Exception ex) {
            throw new IllegalStateException(ex);
          }
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> fx.model.heldCalls() == 1);
        stopping = CompletableFuture.runAsync(fx.host::close);
        // The stop is under way while the model still holds the search, longer than the 5 s search-api
        // once gave its searches whatever SERVICE_SHUTDOWN_TIMEOUT (20 s by default) said.
        Thread.sleep(6_000);
      }
      assertEquals(200, inFlight.get().statusCode(), "answered, not cut off by the stop");
      stopping.get();
    }
  }

  @Test
  void aGrpcCallArrivingWhileHttpDrainsIsRefusedAndOneInFlightIsAnswered(EmbeddedStack stack) throws Exception {
    try (StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "acme:" + KEY,
        "KAFKA_GROUP_ID", "it-stop-refuses-grpc"))) {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      URI uri = serveOneShirt(fx, http);
      int httpPort = fx.service.httpPort();
      int grpcPort = fx.service.grpcPort();

      CompletableFuture<HttpResponse<String>> httpInFlight;
      CompletableFuture<Status> grpcInFlight;
      CompletableFuture<Status> late;
      CompletableFuture<Void> stopping;
      try (AutoCloseable held = fx.model.hold()) {
        httpInFlight = CompletableFuture.supplyAsync(() -> {
          try {
            return search(http, uri);
          } catch (Exception ex) {
            throw new IllegalStateException(ex);
          }
        });
        grpcInFlight = CompletableFuture.supplyAsync(() -> grpcSearch(grpcPort));
        await().atMost(Duration.ofSeconds(30)).until(() -> fx.model.heldCalls() == 2);
        stopping = CompletableFuture.runAsync(fx.host::close);
        // HTTP closes its port as its drain starts: every front end has been told to stop by then.
        await().atMost(Duration.ofSeconds(30)).until(() -> !accepts(httpPort));

        late = CompletableFuture.supplyAsync(() -> grpcSearch(grpcPort));
        await().atMost(Duration.ofSeconds(10)).until(() -> late.isDone() || fx.model.heldCalls() > 2);
        assertEquals(2, fx.model.heldCalls(), "a gRPC call arriving after the stop began never reached the model");
      }
      assertEquals(Status.Code.UNAVAILABLE, late.get().getCode(), "refused, not taken while HTTP drains");
      assertEquals(200, httpInFlight.get().statusCode(), "answered, not cut off by the stop");
      assertEquals(Status.Code.OK, grpcInFlight.get().getCode(), "answered, not cut off by the stop");
      stopping.get();
    }
  }

  static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** A gRPC search on a channel of its own, as a caller arriving now opens one; its status. */
  static Status grpcSearch(int port) {
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + KEY);
      VisualSearchGrpc.newBlockingStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
          .withDeadlineAfter(60, TimeUnit.SECONDS)
          .search(SearchRequest.newBuilder()
              .setImage(ByteString.copyFrom(TestImages.jpeg(64, 64, Color.WHITE, Color.RED))).setK(1).build());
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    } finally {
      ch.shutdownNow();
    }
  }

  static HttpResponse<String> search(HttpClient http, URI uri) throws Exception {
    String image = Base64.getEncoder().encodeToString(TestImages.jpeg(64, 64, Color.WHITE, Color.RED));
    return http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + KEY)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"image_base64\":\"" + image + "\",\"k\":1}", StandardCharsets.UTF_8))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** acme's catalog of one shirt, indexed and served; the search URI once it answers. */
  private static URI serveOneShirt(StackFixture fx, HttpClient http) throws Exception {
    fx.upsertProduct("acme", "drain-0", "shirt", "Apparel > Shirts", 10_000_000L, "in stock");
    float[] e = fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.RED));
    fx.sendEmbedding("acme", "drain-0", e, 1);
    fx.publication.publish("acme", "20250101T000001Z-d1", 1, Map.of("drain-0", e), 1, fx.embeddingsEnd());
    fx.startService();
    URI uri = URI.create("http://127.0.0.1:" + fx.service.httpPort() + "/api/v1/search");
    await().atMost(Duration.ofSeconds(60)).until(() -> search(http, uri).statusCode() == 200);
    return uri;
  }
}
