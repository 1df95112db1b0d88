package io.visualsearch.searchapi.grpc;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * At most {@code maxCalls} gRPC calls in flight; the next is refused at once with
 * RESOURCE_EXHAUSTED {@code overloaded}, before its message is asked for. A call's message (up to
 * the server's inbound limit, ~10 MiB) is buffered whole, parsed, and its image copied out, and
 * gRPC's default executor starts a thread for every call: without a bound, concurrent calls could
 * fill the heap before admission ever saw them. The place is given back when the call ends,
 * answered or cancelled.
 */
final class CallLimit implements ServerInterceptor {

  private final Semaphore calls;
  private final int maxCalls;

  CallLimit(int maxCalls) {
    if (maxCalls <= 0) {
      throw new IllegalArgumentException("a call limit must be positive");
    }
    this.calls = new Semaphore(maxCalls);
    this.maxCalls = maxCalls;
  }

  /** Calls that may start now. */
  int available() {
    return calls.availablePermits();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (!calls.tryAcquire()) {
      call.close(Status.RESOURCE_EXHAUSTED.withDescription("overloaded: the search service has " + maxCalls
          + " gRPC calls in flight, retry shortly"), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    AtomicBoolean released = new AtomicBoolean();
    Runnable release = () -> {
      if (released.compareAndSet(false, true)) {
        calls.release();
      }
    };
    ServerCall.Listener<Q> listener;
    try {
      listener = next.startCall(call, headers);
    } catch (RuntimeException | Error e) {
      release.run();
      throw e;
    }
    // Every started call ends with exactly one of onComplete and onCancel.
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          release.run();
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          release.run();
        }
      }
    };
  }
}
