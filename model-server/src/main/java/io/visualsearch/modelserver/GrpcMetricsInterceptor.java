package io.visualsearch.modelserver;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts and times every gRPC call by method (e.g. {@code Predict}) and status code name; a call
 * the client abandons before the reply counts as {@code CANCELLED}. The call observer is also told
 * whether the model's own run failed the call ({@link GrpcStatuses#isModelFault}).
 */
final class GrpcMetricsInterceptor implements ServerInterceptor {

  private final ModelServerMetrics metrics;

  GrpcMetricsInterceptor(ModelServerMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    long start = System.nanoTime();
    String method = call.getMethodDescriptor().getBareMethodName();
    AtomicBoolean recorded = new AtomicBoolean();
    ServerCall.Listener<Q> delegate = next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        record(recorded, method, status.getCode(), GrpcStatuses.isModelFault(status), start);
        super.close(status, trailers);
      }
    }, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onCancel() {
        record(recorded, method, Status.Code.CANCELLED, false, start);
        super.onCancel();
      }
    };
  }

  private void record(AtomicBoolean recorded, String method, Status.Code code, boolean modelFault, long start) {
    if (recorded.compareAndSet(false, true)) {
      metrics.request("grpc", method, code.name(), modelFault, System.nanoTime() - start);
    }
  }
}
