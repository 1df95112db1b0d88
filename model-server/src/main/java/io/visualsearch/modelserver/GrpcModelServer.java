package io.visualsearch.modelserver;

import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The gRPC listener (TensorFlow Serving's port 8500): owns the Netty server's lifecycle only. */
public final class GrpcModelServer implements Component {

  /** Each stream's and the connection's receive window; see model-server/RATIONALE.md. */
  static final int FLOW_CONTROL_WINDOW_BYTES = 4 << 20;

  private final String bindAddress;
  private final int port;
  private final int maxInboundMessageBytes;
  private final ModelServingService service;
  private final List<ServerInterceptor> interceptors;
  private final GrpcMessageBudget messages;
  private volatile Server server;

  /**
   * {@code interceptors} wrap every call, the first in the list outermost; {@code messages} bounds
   * what the calls being received hold, inside them all.
   */
  GrpcModelServer(String bindAddress, int port, int maxInboundMessageBytes, ModelServingService service,
      List<ServerInterceptor> interceptors, GrpcMessageBudget messages) {
    this.messages = messages;
    this.bindAddress = bindAddress;
    this.port = port;
    this.maxInboundMessageBytes = maxInboundMessageBytes;
    this.service = service;
    this.interceptors = List.copyOf(interceptors);
  }

  @Override
  public String name() {
    return "grpc(" + bindAddress + ":" + port + ")";
  }

  @Override
  public void start() throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(bindAddress, port))
        // Image batches are far larger than gRPC's 4 MiB default.
        .maxInboundMessageSize(maxInboundMessageBytes)
        // Every handler only decodes and queues (Predict answers from the batch thread), so calls
        // run on the Netty event loop: a hop through gRPC's default executor cost a thread wake-up
        // per call, which on two busy cores is a visible share of a 20 ms query.
        .directExecutor()
        // A fixed window: gRPC's automatic tuning answers data with PING frames, one exchange per
        // call on both sides, woken at the moments a query waits for (model-server/RATIONALE.md).
        .flowControlWindow(FLOW_CONTROL_WINDOW_BYTES)
        .addService(new GrpcPredictionService(service, maxInboundMessageBytes))
        .addService(new GrpcModelService(service));
    builder.intercept(new RequestPriority());
    // Innermost but for the priority: the calls it cuts off are still counted and traced by the
    // interceptors outside it.
    builder.addStreamTracerFactory(messages.byteCounter()).intercept(messages);
    // gRPC runs the interceptor added last first.
    for (int i = interceptors.size() - 1; i >= 0; i--) {
      builder.intercept(interceptors.get(i));
    }
    server = builder.build().start();
  }

  /** The bound port (useful when configured as 0). */
  public int port() {
    Server s = server;
    if (s == null) {
      throw new IllegalStateException("not started");
    }
    return s.getPort();
  }

  @Override
  public CheckResult check() {
    Server s = server;
    if (s == null || s.isShutdown()) {
      return CheckResult.failed("gRPC server is not running");
    }
    return CheckResult.OK;
  }

  /** Stops accepting calls and lets running ones finish (bounded), then cuts the rest. */
  @Override
  public void close() {
    Server s = server;
    if (s == null) {
      return;
    }
    s.shutdown();
    try {
      if (!s.awaitTermination(10, TimeUnit.SECONDS)) {
        s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      s.shutdownNow();
    }
  }
}
