package io.visualsearch.searchapi.grpc;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.visualsearch.grpcinbound.InboundBytes;
import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.http.UploadBudget;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Guards a call while its request arrives, until the service is handed it.
 *
 * <p>Time: the request (message and half-close) must be whole within {@code limit} of the call's
 * start, or the call is closed with DEADLINE_EXCEEDED {@code request_timeout} and gives its place
 * back. Without it a client that opens calls and never finishes sending holds {@link CallLimit}'s
 * places, and the buffers of what it did send, for as long as its connection lives: the HTTP side
 * has Jetty's idle timeout for that. Once the request is in, the search itself is not cut off by
 * this limit (the client's own deadline still applies).
 *
 * <p>Memory: the message's bytes take their part of the {@link UploadBudget} that HTTP uploads take
 * theirs of, as the transport reads them ({@link InboundBytes}, {@link UploadBudget#PARSE_COPIES}
 * for each, the buffered message, the parsed request and the image copied out of it), and keep it
 * until the call ends. A message that no longer fits is cut off where it is: the call is closed
 * RESOURCE_EXHAUSTED {@code overloaded} (UNAVAILABLE {@code tenant_overloaded} when its tenant's
 * share is spent) and what it sent is dropped. So both protocols together hold at most the budget.
 *
 * <p>Either close comes from another thread than the service's (the timer's, the transport's), and
 * cannot race it: it happens only while the service has not been handed the request, a request
 * arriving after it is dropped, and only one of the two closes a call.
 */
final class RequestArrival implements ServerInterceptor {

  private final Duration limit;
  private final ScheduledExecutorService timer;
  private final UploadBudget bodies;
  private final InboundBytes inbound = new InboundBytes();

  RequestArrival(Duration limit, ScheduledExecutorService timer, UploadBudget bodies) {
    if (limit.isNegative() || limit.isZero()) {
      throw new IllegalArgumentException("a message deadline must be positive");
    }
    this.limit = limit;
    this.timer = timer;
    this.bodies = bodies;
  }

  /**
   * The stream tracer factory the server is built with: it tells each call's guard how many bytes
   * of its message the transport has read. A server built without it applies the time limit alone.
   */
  ServerStreamTracer.Factory byteCounter() {
    return inbound.tracerFactory();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Arrival arrival = new Arrival(call, bodies.open(String.valueOf(VisualSearchService.TENANT.get())));
    inbound.meter(arrival::arrived);
    ServerCall.Listener<Q> listener;
    try {
      listener = next.startCall(call, headers);
    } catch (RuntimeException | Error e) {
      arrival.end();
      throw e;
    }
    ScheduledFuture<?> expiry = timer.schedule(() -> arrival.cutOff(Status.DEADLINE_EXCEEDED.withDescription(
        "request_timeout: the request message did not arrive within " + limit.toMillis() + " ms of the call's start")),
        limit.toNanos(), TimeUnit.NANOSECONDS);
    // Every started call ends with exactly one of onComplete and onCancel.
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        if (!arrival.isCutOff()) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        if (arrival.received()) {
          expiry.cancel(false);
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        expiry.cancel(false);
        try {
          super.onCancel();
        } finally {
          arrival.end();
        }
      }

      @Override
      public void onComplete() {
        expiry.cancel(false);
        try {
          super.onComplete();
        } finally {
          arrival.end();
        }
      }
    };
  }

  /** One call's request on its way in: waiting for it, handed to the service, cut off, or the call over. */
  private static final class Arrival {
    private enum State { WAITING, RECEIVED, CUT_OFF, ENDED }

    private final ServerCall<?, ?> call;
    private final UploadBudget.Reservation reservation;
    private State state = State.WAITING;

    Arrival(ServerCall<?, ?> call, UploadBudget.Reservation reservation) {
      this.call = call;
      this.reservation = reservation;
    }

    /** Transport thread: {@code bytes} more of the message were read. */
    synchronized void arrived(long bytes) {
      if (state != State.WAITING) {
        return;
      }
      try {
        reservation.grow(UploadBudget.costOf(bytes));
      } catch (ApiException full) {
        cutOff(VisualSearchService.statusOf(full), ErrorTrailers.of(full.retryAfterSeconds()));
      }
    }

    /** Closes the call with {@code status} unless the service has its request already, or it was cut off. */
    synchronized void cutOff(Status status) {
      cutOff(status, new Metadata());
    }

    synchronized void cutOff(Status status, Metadata trailers) {
      if (state == State.WAITING) {
        state = State.CUT_OFF;
        call.close(status, trailers);
      }
    }

    synchronized boolean isCutOff() {
      return state == State.CUT_OFF;
    }

    /** True when the request is the service's now; false when the call was cut off first. */
    synchronized boolean received() {
      if (state == State.WAITING) {
        state = State.RECEIVED;
        return true;
      }
      return false;
    }

    /** The call ended: its bytes leave the budget, and bytes reported after it are not charged. */
    synchronized void end() {
      state = State.ENDED;
      reservation.close();
    }
  }
}
