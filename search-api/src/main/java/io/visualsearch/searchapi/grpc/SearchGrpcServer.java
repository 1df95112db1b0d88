package io.visualsearch.searchapi.grpc;

import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.searchapi.EntrySpans;
import io.visualsearch.searchapi.http.UploadBudget;
import io.visualsearch.tracing.GrpcTracing;
import io.visualsearch.tracing.Tracing;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Owns the gRPC server's lifecycle; {@link VisualSearchService} owns what the calls do. */
public final class SearchGrpcServer implements Component {

  /** The fewest gRPC calls let in at once: {@code SEARCH_MAX_CONCURRENT}'s default. */
  static final int MIN_CALLS = 16;
  /** The most, whatever the heap: beyond admission's default places (80) calls would be refused there. */
  static final int MAX_CALLS = 256;

  /**
   * A connection's HTTP/2 preface and settings must arrive within this of its accept, as HTTP's
   * request headers must (HttpApi.HEADER_DEADLINE): gRPC's default, 120 s, let a client trickling
   * the preface hold a connection for two minutes apiece.
   */
  static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
  /**
   * A connection without a call in flight this long is sent GOAWAY (gRPC's default is never): a
   * back end's channel reconnects at its next call without an error, and connections opened and left
   * do not pile up. Keepalive pings do not count as calls.
   */
  static final Duration MAX_CONNECTION_IDLE = Duration.ofMinutes(5);
  /**
   * Every connection is sent GOAWAY after this (±10% jitter from gRPC), so none lives for good and
   * back ends spread over replicas added since they connected...
   */
  static final Duration MAX_CONNECTION_AGE = Duration.ofMinutes(30);
  /**
   * ...and its calls in flight then get this long to finish before it is closed: beyond the default
   * message timeout (30 s) plus a queued search.
   */
  static final Duration MAX_CONNECTION_AGE_GRACE = Duration.ofMinutes(1);
  /**
   * Clients may ping this often while calls are in flight (gRPC's default, 5 min, answered a client
   * keepalive of 30 s or 1 min, common in service meshes, with GOAWAY too_many_pings); pings on a
   * connection without calls are not permitted, as by default: such a connection is closed when idle
   * anyway, and pings cannot keep it.
   */
  static final Duration PERMIT_KEEPALIVE_TIME = Duration.ofSeconds(30);

  private final String host;
  private final int requestedPort;
  private final int maxMessageBytes;
  private final UploadBudget bodies;
  private final VisualSearchService service;
  private final Tracing tracing;
  private final Duration messageTimeout;
  private final PrometheusRegistry registry;
  private final Supplier<Duration> drainTimeLeft;
  private final Duration handshakeTimeout;
  private ScheduledExecutorService messageTimer;
  private Server server;

  /**
   * {@code bodies} is the budget the HTTP uploads share: each call's message takes its part of it as
   * it arrives, and it sizes how many calls are let in at once.
   * {@code messageTimeout}: how long after its start a call's request must have arrived.
   */
  public SearchGrpcServer(String host, int port, int maxMessageBytes, UploadBudget bodies, VisualSearchService service,
      Tracing tracing, Duration messageTimeout, PrometheusRegistry registry, Supplier<Duration> drainTimeLeft) {
    this(host, port, maxMessageBytes, bodies, service, tracing, messageTimeout, registry, drainTimeLeft,
        HANDSHAKE_TIMEOUT);
  }

  /** With another handshake timeout: tests, which cannot wait ten seconds per trickle. */
  SearchGrpcServer(String host, int port, int maxMessageBytes, UploadBudget bodies, VisualSearchService service,
      Tracing tracing, Duration messageTimeout, PrometheusRegistry registry, Supplier<Duration> drainTimeLeft,
      Duration handshakeTimeout) {
    this.handshakeTimeout = handshakeTimeout;
    this.drainTimeLeft = drainTimeLeft;
    this.host = host;
    this.requestedPort = port;
    this.maxMessageBytes = maxMessageBytes;
    this.bodies = bodies;
    this.service = service;
    this.tracing = tracing;
    this.messageTimeout = messageTimeout;
    this.registry = registry;
  }

  @Override
  public String name() {
    return "grpc-api";
  }

  @Override
  public void start() throws Exception {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, runnable -> {
      Thread t = new Thread(runnable, "grpc-message-deadline");
      t.setDaemon(true);
      return t;
    });
    timer.setRemoveOnCancelPolicy(true); // answered calls' expiries leave the queue at once
    messageTimer = timer;
    RequestArrival arrival = new RequestArrival(messageTimeout, timer, bodies);
    // No cap on open connections: grpc-netty offers none but through its internal protocol
    // negotiator API. Every connection ends by itself instead (handshake, idle, age), and what stands
    // in front of the port has to cap them (README).
    server = NettyServerBuilder.forAddress(new InetSocketAddress(host, requestedPort))
        .handshakeTimeout(handshakeTimeout.toNanos(), TimeUnit.NANOSECONDS)
        .maxConnectionIdle(MAX_CONNECTION_IDLE.toNanos(), TimeUnit.NANOSECONDS)
        .maxConnectionAge(MAX_CONNECTION_AGE.toNanos(), TimeUnit.NANOSECONDS)
        .maxConnectionAgeGrace(MAX_CONNECTION_AGE_GRACE.toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveTime(PERMIT_KEEPALIVE_TIME.toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveWithoutCalls(false)
        .maxInboundMessageSize(maxMessageBytes)
        .addStreamTracerFactory(arrival.byteCounter())
        .addService(wire(service.bindService(), service.credentials(),
            new CallLimit(maxCalls(maxMessageBytes, bodies.capacity())), arrival,
            new EntrySpans(tracing).grpc(new GrpcTracing(tracing).serverInterceptor()), new GrpcCallMetrics(registry)))
        .build()
        .start();
  }

  /**
   * The service behind its interceptors, which run last-added first: the metrics count every call,
   * refused or answered; tracing opens the span; the
   * credentials are checked inside it from the headers alone, so a call without a valid key is
   * refused before its message is received, and takes no place; then the call limit; then the
   * guard of the request's arrival (its time limit and its bytes' part of the budget), inside the
   * limit so that a call it closes gives its place back, and inside the credentials so that its
   * bytes are charged to the caller's tenant.
   */
  static ServerServiceDefinition wire(ServerServiceDefinition service, ServerInterceptor credentials, CallLimit limit,
      RequestArrival arrival, ServerInterceptor tracing, GrpcCallMetrics metrics) {
    return ServerInterceptors.intercept(service, arrival, limit, credentials, tracing, metrics);
  }

  /**
   * gRPC calls in flight at once, from the heap share request bodies may take
   * ({@code budgetBytes}, the {@link UploadBudget}'s capacity): each call may hold a message of up
   * to {@code maxMessageBytes} {@link UploadBudget#PARSE_COPIES} times (buffered, parsed, its image
   * copied out). At least
   * {@link #MIN_CALLS}, so that gRPC alone can still fill the default search slots.
   */
  static int maxCalls(int maxMessageBytes, long budgetBytes) {
    long perCall = UploadBudget.costOf(Math.max(1, maxMessageBytes));
    return (int) Math.max(MIN_CALLS, Math.min(MAX_CALLS, budgetBytes / perCall));
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public CheckResult check() {
    return server != null && !server.isShutdown() ? CheckResult.OK : CheckResult.failed("not running");
  }

  /**
   * New calls are refused from the moment the stop begins, not only once HTTP has drained: the
   * calls taken meanwhile were left what remained of the allowance, often nothing, and cut off.
   */
  @Override
  public void beginStop() {
    if (server != null) {
      server.shutdown();
    }
  }

  @Override
  public void close() {
    if (server != null) {
      server.shutdown();
      try {
        // The calls in flight get what is left of the shutdown allowance after HTTP's drain.
        if (!server.awaitTermination(drainTimeLeft.get().toNanos(), TimeUnit.NANOSECONDS)) {
          server.shutdownNow();
        }
      } catch (InterruptedException e) {
        server.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
    if (messageTimer != null) {
      messageTimer.shutdownNow();
    }
  }
}
