package io.visualsearch.searchapi.grpc;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A call's request must have arrived whole (message and half-close) within {@code limit} of the
 * call's start, or the call is closed with DEADLINE_EXCEEDED and gives its place back. Without it a
 * client that opens calls and never finishes sending holds {@link CallLimit}'s places, and the
 * buffers of what it did send, for as long as its connection lives: the HTTP side has Jetty's idle
 * timeout for that. Once the request is in, the search itself is not cut off by this limit (the
 * client's own deadline still applies).
 *
 * <p>The close from the timer thread cannot race the service: it happens only while the service has
 * not been handed the request, and a request arriving after it is dropped.
 */
final class MessageDeadline implements ServerInterceptor {

  private static final int WAITING = 0;
  private static final int RECEIVED = 1;
  private static final int EXPIRED = 2;

  private final Duration limit;
  private final ScheduledExecutorService timer;

  MessageDeadline(Duration limit, ScheduledExecutorService timer) {
    if (limit.isNegative() || limit.isZero()) {
      throw new IllegalArgumentException("a message deadline must be positive");
    }
    this.limit = limit;
    this.timer = timer;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    ServerCall.Listener<Q> listener = next.startCall(call, headers);
    AtomicInteger state = new AtomicInteger(WAITING);
    ScheduledFuture<?> expiry = timer.schedule(() -> {
      if (state.compareAndSet(WAITING, EXPIRED)) {
        call.close(Status.DEADLINE_EXCEEDED.withDescription("request_timeout: the request message did not arrive"
            + " within " + limit.toMillis() + " ms of the call's start"), new Metadata());
      }
    }, limit.toNanos(), TimeUnit.NANOSECONDS);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        if (state.get() != EXPIRED) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        if (state.compareAndSet(WAITING, RECEIVED)) {
          expiry.cancel(false);
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        expiry.cancel(false);
        super.onCancel();
      }

      @Override
      public void onComplete() {
        expiry.cancel(false);
        super.onComplete();
      }
    };
  }
}
