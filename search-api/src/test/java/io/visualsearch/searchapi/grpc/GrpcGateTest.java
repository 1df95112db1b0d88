package io.visualsearch.searchapi.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.proto.search.SearchRequest;
import io.visualsearch.proto.search.SimilarRequest;
import io.visualsearch.proto.search.VisualSearchGrpc;
import io.visualsearch.searchapi.auth.ApiKeys;
import io.visualsearch.searchapi.auth.Authenticator;
import io.visualsearch.searchapi.http.UploadBudget;
import io.visualsearch.tracing.GrpcTracing;
import io.visualsearch.tracing.Tracing;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.visualsearch.proto.search.SearchReply;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gRPC server's interceptors as {@link SearchGrpcServer#wire} puts them: a call without a valid
 * key never reaches the service (nor is its message asked for), and calls beyond the limit are
 * refused at once. A hook in front of the service counts what reaches it; it holds a call open
 * on request, and answers the rest itself (the service has no query path here).
 */
class GrpcGateTest {

  static final String KEY = "acme-key-0123456789abcdef";
  static final String OTHER_KEY = "globex-key-0123456789abcdef";
  static final int MAX_MESSAGE = 12 * 1024 * 1024;

  final AtomicInteger reached = new AtomicInteger();
  final AtomicInteger messages = new AtomicInteger();
  /** One permit for every call the hook holds open. */
  final Semaphore holding = new Semaphore(0);
  final CountDownLatch letGo = new CountDownLatch(1);
  final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  final PrometheusRegistry registry = new PrometheusRegistry();
  Server server;
  ManagedChannel channel;

  void start(int maxCalls) throws Exception {
    start(maxCalls, Duration.ofSeconds(30));
  }

  void start(int maxCalls, Duration messageTimeout) throws Exception {
    start(maxCalls, messageTimeout, new UploadBudget(1L << 30));
  }

  void start(int maxCalls, Duration messageTimeout, UploadBudget bodies) throws Exception {
    VisualSearchService service = new VisualSearchService(
        new Authenticator(ApiKeys.parse(List.of("acme:" + KEY, "globex:" + OTHER_KEY))), null, null, 10, new Activity(new PrometheusRegistry()));
    ServerInterceptor hook = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        reached.incrementAndGet();
        call.request(1);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<Q>(new ServerCall.Listener<>() { }) {
          @Override
          public void onMessage(Q message) {
            messages.incrementAndGet();
          }

          @Override
          public void onHalfClose() {
            if (message(headers)) {
              holding.release();
              try {
                letGo.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            call.close(Status.NOT_FOUND.withDescription("hook"), new Metadata());
          }
        };
      }
    };
    RequestArrival arrival = new RequestArrival(messageTimeout, timer, bodies);
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).maxInboundMessageSize(MAX_MESSAGE)
        .addStreamTracerFactory(arrival.byteCounter())
        .addService(SearchGrpcServer.wire(ServerInterceptors.intercept(service, hook), service.credentials(),
            new CallLimit(maxCalls), arrival, new GrpcTracing(Tracing.withExporter("test", SpanExporter.composite()))
                .serverInterceptor(), new GrpcCallMetrics(registry)))
        .build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
        .maxInboundMessageSize(MAX_MESSAGE).build();
  }

  static final Metadata.Key<String> HOLD = Metadata.Key.of("x-hold", Metadata.ASCII_STRING_MARSHALLER);

  static boolean message(Metadata headers) {
    return headers.get(HOLD) != null;
  }

  VisualSearchGrpc.VisualSearchBlockingStub stub(String authorization, boolean hold) {
    Metadata md = new Metadata();
    if (authorization != null) {
      md.put(VisualSearchService.AUTHORIZATION, authorization);
    }
    if (hold) {
      md.put(HOLD, "1");
    }
    return VisualSearchGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() {
    timer.shutdownNow();
    letGo.countDown();
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow();
    }
  }

  @Test
  void aCallWithoutAValidKeyIsRefusedBeforeItsMessageIsProcessed() throws Exception {
    start(4);
    SearchRequest huge = SearchRequest.newBuilder().setImage(ByteString.copyFrom(new byte[10 * 1024 * 1024])).build();
    for (String authorization : new String[] {null, "Bearer not-a-key-0123456789", "Basic eA=="}) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub(authorization, false).search(huge));
      assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode(), String.valueOf(authorization));
      assertTrue(e.getStatus().getDescription().startsWith("missing_api_key")
          || e.getStatus().getDescription().startsWith("invalid_api_key"), e.getStatus().getDescription());
    }
    StatusRuntimeException similar = assertThrows(StatusRuntimeException.class,
        () -> stub(null, false).similar(SimilarRequest.newBuilder().setSku("x").build()));
    assertEquals(Status.Code.UNAUTHENTICATED, similar.getStatus().getCode());
    assertEquals(0, reached.get(), "no anonymous call reached the service");
    assertEquals(3, calls("Search", "UNAUTHENTICATED"), "refusals before the service are counted");
    assertEquals(1, calls("Similar", "UNAUTHENTICATED"));
    assertEquals(0, messages.get());
    // The hook itself sees a call with a key, message and all.
    StatusRuntimeException keyed = assertThrows(StatusRuntimeException.class, () -> stub("Bearer " + KEY, false).search(huge));
    assertEquals("hook", keyed.getStatus().getDescription());
    assertEquals(1, reached.get());
    assertEquals(1, messages.get());
  }

  @Test
  void callsBeyondTheLimitAreRefusedAtOnceAndItsPlacesReturn() throws Exception {
    start(1);
    CompletableFuture<StatusRuntimeException> held = CompletableFuture.supplyAsync(() -> assertThrows(
        StatusRuntimeException.class, () -> stub("Bearer " + KEY, true).similar(SimilarRequest.newBuilder().setSku("a").build())));
    assertTrue(holding.tryAcquire(30, TimeUnit.SECONDS));
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> stub("Bearer " + KEY, false).similar(SimilarRequest.newBuilder().setSku("b").build()));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().startsWith("overloaded"), refused.getStatus().getDescription());
    // As HTTP's Retry-After: 1, in the trailer a client's retry policy waits out.
    assertEquals("1000", refused.getTrailers().get(ErrorTrailers.RETRY_PUSHBACK_MS));
    letGo.countDown();
    assertEquals("hook", held.get(30, TimeUnit.SECONDS).getStatus().getDescription());
    // The client may see the answer before the server's end-of-call gives the place back.
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> "hook".equals(
        assertThrows(StatusRuntimeException.class, () -> stub("Bearer " + KEY, false)
            .similar(SimilarRequest.newBuilder().setSku("c").build())).getStatus().getDescription()));
    assertEquals(2, reached.get(), "the ended call gave its place back; the refused tries never reached the service");
  }

  @Test
  void oneTenantsCallsTakeAtMostHalfThePlacesAndTheOthersStillGetIn() throws Exception {
    start(4);
    List<CompletableFuture<StatusRuntimeException>> held = new java.util.ArrayList<>();
    for (int i = 0; i < 2; i++) {
      String sku = "held-" + i;
      held.add(CompletableFuture.supplyAsync(() -> assertThrows(StatusRuntimeException.class,
          () -> stub("Bearer " + KEY, true).similar(SimilarRequest.newBuilder().setSku(sku).build()))));
    }
    assertTrue(holding.tryAcquire(2, 30, TimeUnit.SECONDS));
    StatusRuntimeException third = assertThrows(StatusRuntimeException.class,
        () -> stub("Bearer " + KEY, false).similar(SimilarRequest.newBuilder().setSku("c").build()));
    assertEquals(Status.Code.UNAVAILABLE, third.getStatus().getCode(), "the tenant's burst, not the service full");
    assertTrue(third.getStatus().getDescription().startsWith("tenant_overloaded"), third.getStatus().getDescription());
    assertEquals("1000", third.getTrailers().get(ErrorTrailers.RETRY_PUSHBACK_MS));
    StatusRuntimeException other = assertThrows(StatusRuntimeException.class,
        () -> stub("Bearer " + OTHER_KEY, false).similar(SimilarRequest.newBuilder().setSku("d").build()));
    assertEquals("hook", other.getStatus().getDescription(), "another tenant's call is let in");
    letGo.countDown();
    for (CompletableFuture<StatusRuntimeException> h : held) {
      assertEquals("hook", h.get(30, TimeUnit.SECONDS).getStatus().getDescription());
    }
    StatusRuntimeException after = assertThrows(StatusRuntimeException.class,
        () -> stub("Bearer " + KEY, false).similar(SimilarRequest.newBuilder().setSku("e").build()));
    assertEquals("hook", after.getStatus().getDescription(), "the tenant's ended calls gave their places back");
  }

  @Test
  void aCallWhoseRequestNeverArrivesIsClosedAndGivesItsPlaceBack() throws Exception {
    start(1, Duration.ofMillis(500));
    Metadata md = new Metadata();
    md.put(VisualSearchService.AUTHORIZATION, "Bearer " + KEY);
    ClientCall<SimilarRequest, SearchReply> stalled = channel.newCall(VisualSearchGrpc.getSimilarMethod(),
        CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
    CompletableFuture<Status> closed = new CompletableFuture<>();
    stalled.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, md);
    stalled.request(1);
    // The message is sent but the request never ends (the client's library sends nothing at all before it).
    stalled.sendMessage(SimilarRequest.newBuilder().setSku("stalled").build());
    Status status = closed.get(20, TimeUnit.SECONDS);
    assertEquals(Status.Code.DEADLINE_EXCEEDED, status.getCode());
    assertTrue(status.getDescription().startsWith("request_timeout"), status.getDescription());
    StatusRuntimeException after = assertThrows(StatusRuntimeException.class,
        () -> stub("Bearer " + KEY, false).similar(SimilarRequest.newBuilder().setSku("a").build()));
    assertEquals("hook", after.getStatus().getDescription(), "the only place was given back");
  }

  @Test
  void aSearchRunningPastTheMessageDeadlineIsNotCutOff() throws Exception {
    start(2, Duration.ofMillis(200));
    CompletableFuture<StatusRuntimeException> held = CompletableFuture.supplyAsync(() -> assertThrows(
        StatusRuntimeException.class, () -> stub("Bearer " + KEY, true).similar(SimilarRequest.newBuilder().setSku("a").build())));
    assertTrue(holding.tryAcquire(30, TimeUnit.SECONDS));
    Thread.sleep(600); // well past the message deadline, with the request in the service's hands
    letGo.countDown();
    assertEquals("hook", held.get(30, TimeUnit.SECONDS).getStatus().getDescription());
  }

  /** search_grpc_requests_total of {@code method} and {@code code}; 0 when none was counted. */
  double calls(String method, String code) {
    for (MetricSnapshot m : registry.scrape()) {
      if (m.getMetadata().getName().equals("search_grpc_requests") && m instanceof CounterSnapshot c) {
        for (CounterSnapshot.CounterDataPointSnapshot d : c.getDataPoints()) {
          if (method.equals(d.getLabels().get("method")) && code.equals(d.getLabels().get("code"))) {
            return d.getValue();
          }
        }
      }
    }
    return 0;
  }

  /** The server gives a call's bytes back when it has ended there, which the client may see first. */
  static void assertAvailable(UploadBudget bodies, long expected, String message) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (bodies.available() != expected && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertEquals(expected, bodies.available(), message);
  }

  static SearchRequest photoOf(int bytes) {
    return SearchRequest.newBuilder().setImage(ByteString.copyFrom(new byte[bytes])).build();
  }

  @Test
  void aMessageHoldsItsPartOfTheUploadBudgetUntilItsCallEnds() throws Exception {
    UploadBudget bodies = new UploadBudget(64L << 20);
    start(4, Duration.ofSeconds(30), bodies);
    int image = 1 << 20;
    CompletableFuture<StatusRuntimeException> held = CompletableFuture.supplyAsync(() -> assertThrows(
        StatusRuntimeException.class, () -> stub("Bearer " + KEY, true).search(photoOf(image))));
    assertTrue(holding.tryAcquire(30, TimeUnit.SECONDS));
    long taken = bodies.capacity() - bodies.available();
    // The message on the wire: the image, a few bytes of protobuf framing, gRPC's 5-byte prefix.
    assertTrue(taken >= UploadBudget.costOf(image) && taken <= UploadBudget.costOf(image + 64), "taken " + taken);
    letGo.countDown();
    assertEquals("hook", held.get(30, TimeUnit.SECONDS).getStatus().getDescription());
    assertAvailable(bodies, bodies.capacity(), "the ended call gave its bytes back");
  }

  @Test
  void aMessageThatNoLongerFitsBesideTheUploadsIsCutOffAndTheServiceNeverSeesIt() throws Exception {
    UploadBudget bodies = new UploadBudget(64L << 20);
    start(4, Duration.ofSeconds(30), bodies);
    // HTTP uploads of other tenants hold all but 2 MiB of the budget.
    UploadBudget.Reservation uploads = bodies.reserve("globex", (long) (bodies.capacity() * UploadBudget.TENANT_SHARE));
    UploadBudget.Reservation more = bodies.reserve("initech", bodies.available() - (2 << 20));
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> stub("Bearer " + KEY, false).search(photoOf(4 << 20)));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().startsWith("overloaded"), refused.getStatus().getDescription());
    assertEquals("1000", refused.getTrailers().get(ErrorTrailers.RETRY_PUSHBACK_MS), "the upload budget's Retry-After");
    assertEquals(0, messages.get(), "the cut-off message never reached the service");
    assertEquals(1, calls("Search", "RESOURCE_EXHAUSTED"));
    assertAvailable(bodies, 2 << 20, "the cut-off call gave back what it had taken");
    uploads.close();
    more.close();
    StatusRuntimeException read = assertThrows(StatusRuntimeException.class,
        () -> stub("Bearer " + KEY, false).search(photoOf(4 << 20)));
    assertEquals("hook", read.getStatus().getDescription(), "read once the uploads are done");
    assertAvailable(bodies, bodies.capacity(), "every call gave its bytes back");
  }

  @Test
  void aTenantWhoseUploadsHoldItsShareGetsNoMoreOverGrpcWhileOthersDo() throws Exception {
    UploadBudget bodies = new UploadBudget(64L << 20);
    start(4, Duration.ofSeconds(30), bodies);
    long share = (long) (bodies.capacity() * UploadBudget.TENANT_SHARE);
    UploadBudget.Reservation acmeUploads = bodies.reserve("acme", share);
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> stub("Bearer " + KEY, false).search(photoOf(1 << 20)));
    assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().startsWith("tenant_overloaded"),
        refused.getStatus().getDescription());
    StatusRuntimeException other = assertThrows(StatusRuntimeException.class,
        () -> stub("Bearer " + OTHER_KEY, false).search(photoOf(1 << 20)));
    assertEquals("hook", other.getStatus().getDescription(), "another tenant's message is read");
    acmeUploads.close();
    assertAvailable(bodies, bodies.capacity(), "every call gave its bytes back");
  }

  @Test
  void theCallLimitFollowsTheHeapShareWithinItsBounds() {
    long tenMiB = 10 * 1024 * 1024;
    // A budget for 24 calls of 10 MiB parsed three times over.
    long budget = 24 * UploadBudget.costOf(tenMiB);
    assertEquals(24, SearchGrpcServer.maxCalls((int) tenMiB, budget));
    assertEquals(SearchGrpcServer.MIN_CALLS, SearchGrpcServer.maxCalls((int) tenMiB, budget / 4), "at least the default slots");
    assertEquals(SearchGrpcServer.MAX_CALLS, SearchGrpcServer.maxCalls(1024, budget), "never past admission's places");
    assertEquals(SearchGrpcServer.MIN_CALLS, SearchGrpcServer.maxCalls(Integer.MAX_VALUE, budget));
  }
}
