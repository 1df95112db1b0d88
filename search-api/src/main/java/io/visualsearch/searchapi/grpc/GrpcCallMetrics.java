package io.visualsearch.searchapi.grpc;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * gRPC calls by method and status code, and their latency, as {@code search_http_requests_total}
 * counts the HTTP side. Outside every other interceptor, so the refusals before the service (no
 * key, no place, a request too slow or too large for the upload budget) are counted with the
 * answers; a call its client abandons counts as CANCELLED.
 */
final class GrpcCallMetrics implements ServerInterceptor {

  private final Counter calls;
  private final Histogram latency;

  GrpcCallMetrics(PrometheusRegistry registry) {
    this.calls = Counter.builder().name("search_grpc_requests_total")
        .help("gRPC calls by method (Search, Similar) and status code").labelNames("method", "code").register(registry);
    this.latency = Histogram.builder().name("search_grpc_request_duration_seconds")
        .help("gRPC call latency by method").labelNames("method").register(registry);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    long start = System.nanoTime();
    String method = call.getMethodDescriptor().getBareMethodName();
    AtomicBoolean counted = new AtomicBoolean();
    ServerCall.Listener<Q> listener = next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        count(counted, method, status.getCode(), start);
        super.close(status, trailers);
      }
    }, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onCancel() {
        count(counted, method, Status.Code.CANCELLED, start);
        super.onCancel();
      }
    };
  }

  private void count(AtomicBoolean counted, String method, Status.Code code, long start) {
    if (counted.compareAndSet(false, true)) {
      calls.labelValues(method, code.name()).inc();
      latency.labelValues(method).observe((System.nanoTime() - start) / 1e9);
    }
  }
}
