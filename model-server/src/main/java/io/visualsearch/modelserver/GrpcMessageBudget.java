package io.visualsearch.modelserver;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.visualsearch.grpcinbound.InboundBytes;

/**
 * gRPC requests take their bytes from a {@link BodyBudget} as the transport reads them, {@link
 * #COPIES} for each, until the handler has decoded the request and queued it (the batch queue
 * counts the decoded inputs from then on, {@code MODEL_SERVER_MAX_QUEUED_BYTES}). Without it
 * nothing but the 64 MiB message limit bounded what calls being received held: a dozen clients
 * sending large batches at once filled the heap before the queue ever saw them. A message that no
 * longer fits is cut off where it is, UNAVAILABLE like a full queue (the clients' retry policy
 * backs off and sends it again), and what it sent is dropped.
 *
 * <p>The server runs calls on the transport's threads ({@code directExecutor}), so the close
 * cannot race the handler; a request that arrives after its call was cut off is dropped.
 */
final class GrpcMessageBudget implements ServerInterceptor {

  /** Heap a message costs per byte while it is handled: buffered whole, parsed, its tensors decoded. */
  static final int COPIES = 3;

  private final BodyBudget budget;
  private final InboundBytes inbound = new InboundBytes();

  GrpcMessageBudget(BodyBudget budget) {
    this.budget = budget;
  }

  BodyBudget budget() {
    return budget;
  }

  /** The stream tracer factory the server is built with: it tells each call how many bytes arrived. */
  ServerStreamTracer.Factory byteCounter() {
    return inbound.tracerFactory();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Arrival arrival = new Arrival(call, budget.lease());
    if (!inbound.meter(arrival::arrived)) {
      return next.startCall(call, headers); // a transport that reports no sizes: nothing to count
    }
    ServerCall.Listener<Q> listener;
    try {
      listener = next.startCall(call, headers);
    } catch (RuntimeException | Error e) {
      arrival.release();
      throw e;
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        if (!arrival.isCutOff()) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        if (arrival.isCutOff()) {
          return;
        }
        try {
          super.onHalfClose();
        } finally {
          arrival.release(); // decoded and queued, or refused: the message's copies are gone
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          arrival.release();
        }
      }

      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          arrival.release();
        }
      }
    };
  }

  /** One call's message on its way in. */
  private final class Arrival {
    private final ServerCall<?, ?> call;
    private final BodyBudget.Lease lease;
    private boolean cutOff;
    private boolean released;

    Arrival(ServerCall<?, ?> call, BodyBudget.Lease lease) {
      this.call = call;
      this.lease = lease;
    }

    synchronized void arrived(long bytes) {
      if (cutOff || released) {
        return;
      }
      if (!lease.grow(bytes * COPIES)) {
        cutOff = true;
        lease.close();
        call.close(Status.UNAVAILABLE.withDescription("the model server is overloaded: gRPC requests being received"
            + " hold ~" + budget.used() / (1024 * 1024) + " of the " + budget.limit() / (1024 * 1024) + " MiB they may"
            + " (MODEL_SERVER_GRPC_MESSAGE_BUDGET_BYTES); retry shortly"), new Metadata());
      }
    }

    synchronized boolean isCutOff() {
      return cutOff;
    }

    synchronized void release() {
      if (!released) {
        released = true;
        lease.close();
      }
    }
  }
}
