package io.visualsearch.searchapi.grpc;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.tracing.GrpcTracing;
import io.visualsearch.tracing.Tracing;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** Owns the gRPC server's lifecycle; {@link VisualSearchService} owns what the calls do. */
public final class SearchGrpcServer implements Component {

  private final String host;
  private final int requestedPort;
  private final int maxMessageBytes;
  private final VisualSearchService service;
  private final Tracing tracing;
  private Server server;

  public SearchGrpcServer(String host, int port, int maxMessageBytes, VisualSearchService service, Tracing tracing) {
    this.host = host;
    this.requestedPort = port;
    this.maxMessageBytes = maxMessageBytes;
    this.service = service;
    this.tracing = tracing;
  }

  @Override
  public String name() {
    return "grpc-api";
  }

  @Override
  public void start() throws Exception {
    // Interceptors run last-added first: tracing opens the span, then credentials are read inside it.
    server = NettyServerBuilder.forAddress(new InetSocketAddress(host, requestedPort))
        .maxInboundMessageSize(maxMessageBytes)
        .addService(ServerInterceptors.intercept(service, service.credentials(),
            new GrpcTracing(tracing).serverInterceptor()))
        .build()
        .start();
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public CheckResult check() {
    return server != null && !server.isShutdown() ? CheckResult.OK : CheckResult.failed("not running");
  }

  @Override
  public void close() {
    if (server != null) {
      server.shutdown();
      try {
        if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
          server.shutdownNow();
        }
      } catch (InterruptedException e) {
        server.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }
}
