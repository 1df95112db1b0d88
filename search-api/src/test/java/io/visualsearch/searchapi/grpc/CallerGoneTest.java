package io.visualsearch.searchapi.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.proto.search.SearchRequest;
import io.visualsearch.proto.search.VisualSearchGrpc;
import io.visualsearch.searchapi.auth.ApiKeys;
import io.visualsearch.searchapi.auth.Authenticator;
import io.visualsearch.searchapi.http.Admission;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A gRPC search cancelled by its caller while it waited for a search slot is given the slot, when
 * its turn comes, only to hand it back: nothing is searched for a caller that has gone. The
 * service here has no query path at all, so a search that went on would fail as the service's
 * own error.
 */
class CallerGoneTest {

  static final String KEY = "acme-key-0123456789abcdef";

  @Test
  void aCallCancelledWhileQueuedIsNotSearchedWhenItsTurnComes() throws Exception {
    Activity activity = new Activity(new PrometheusRegistry());
    Admission admission = new Admission(1, 4, 4, Duration.ofMinutes(1));
    VisualSearchService service = new VisualSearchService(new Authenticator(ApiKeys.parse(List.of("acme:" + KEY))),
        null, admission, 10, activity);
    // Counts down once the server has seen the caller go (its call's context cancelled).
    java.util.concurrent.CountDownLatch seenGone = new java.util.concurrent.CountDownLatch(1);
    io.grpc.ServerInterceptor watch = new io.grpc.ServerInterceptor() {
      @Override
      public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, Metadata headers,
          io.grpc.ServerCallHandler<Q, R> next) {
        Context.current().addListener(c -> seenGone.countDown(), Runnable::run);
        return next.startCall(call, headers);
      }
    };
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(io.grpc.ServerInterceptors.intercept(service, service.credentials(), watch)).build().start();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    try {
      Metadata auth = new Metadata();
      auth.put(VisualSearchService.AUTHORIZATION, "Bearer " + KEY);
      var stub = VisualSearchGrpc.newFutureStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth));
      Admission.Permit busy = admission.enter("acme"); // the only slot, taken
      Context.CancellableContext caller = Context.current().withCancellation();
      var call = caller.call(() -> stub.search(SearchRequest.newBuilder().setK(1).build()));
      await().atMost(Duration.ofSeconds(30)).until(() -> admission.waiting() == 1);
      caller.cancel(null);
      assertEquals(true, seenGone.await(30, TimeUnit.SECONDS), "the server never saw the caller go");
      busy.close();
      // Its turn comes: the slot is taken and handed back, and the call counts as activity, not an error.
      await().atMost(Duration.ofSeconds(30)).until(() -> activity.lastActivityMs() > 0 || activity.errors() > 0);
      assertEquals(0, activity.errors(), "a search went on for a caller that had gone");
      assertEquals(0, admission.waiting());
      admission.enter("acme").close(); // the slot is free again
      assertEquals(io.grpc.Status.Code.CANCELLED, io.grpc.Status.fromThrowable(
          org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
              () -> call.get(30, TimeUnit.SECONDS)).getCause()).getCode());
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }
}
