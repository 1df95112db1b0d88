package io.visualsearch.modelserver;

import io.grpc.ServerInterceptor;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.tracing.GrpcTracing;
import io.visualsearch.tracing.Tracing;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole model server as one component: the model manager, the batcher, and the gRPC and REST
 * listeners, started in that order (models before intake) and closed in reverse (intake first, then
 * running batches drain, then models unload).
 *
 * <p>Observability: with a {@link Tracing}, every gRPC and REST call is a SERVER span continuing
 * the caller's context and every TensorFlow run a span beneath it (see {@link DynamicBatcher});
 * request, batch, queue and version metrics go to the given Prometheus registry. The tracing and
 * the registry are owned by the caller (the service wiring, {@link ModelServerService}).
 */
public final class ModelServer implements Component {

  private static final Logger log = LoggerFactory.getLogger(ModelServer.class);

  private final ModelServerSettings settings;
  private final ModelManager models;
  private final DynamicBatcher batcher;
  private final ModelServingService service;
  private final GrpcModelServer grpc;
  private final RestModelServer rest;
  private final List<Component> started = new ArrayList<>();

  /**
   * Told of every answered call: front end ({@code grpc}, {@code rest}), method, status code, and
   * whether the model's own TensorFlow run failed it ({@code modelFault}). A run's failure keeps
   * TensorFlow's code, which a caller's mistake may share (FAILED_PRECONDITION is also an unknown
   * signature), so the code alone does not say whose fault a failed call was.
   */
  @FunctionalInterface
  public interface CallObserver {
    void answered(String api, String method, String code, boolean modelFault);
  }

  private final ModelServerMetrics metrics;

  /** Replaces the call observer (the heartbeat's activity counter uses it). */
  public void observeCalls(CallObserver observer) {
    metrics.observe(observer);
  }

  /** Untraced, with metrics kept in a registry nobody scrapes: for tests and tools. */
  public ModelServer(ModelServerSettings settings) {
    this(settings, null, new PrometheusRegistry());
  }

  /** Traced through {@code tracing}, measured into {@code registry}; both stay the caller's. */
  public ModelServer(ModelServerSettings settings, Tracing tracing, PrometheusRegistry registry) {
    this.settings = settings;
    Tracer tracer = tracing != null ? tracing.tracer() : OpenTelemetry.noop().getTracer("model-server");
    TextMapPropagator propagator = tracing != null ? tracing.propagator() : TextMapPropagator.noop();
    ModelServerMetrics metrics = new ModelServerMetrics(registry);
    this.metrics = metrics;
    this.models = new ModelManager(settings.modelName(), settings.basePath(), settings.versionPolicy(),
        settings.pollInterval(), settings.servedVersions(), settings.sessionConfig());
    this.batcher = new DynamicBatcher(settings.maxBatchSize(), settings.batchTimeout(), settings.batchThreads(),
        settings.maxQueuedRequests(), settings.maxQueuedBytes(), settings.dispatchWhenIdle(),
        (key, inputs) -> key.version().run(key.signature(), inputs, key.outputs()), tracer, metrics);
    metrics.watch(batcher, models);
    this.service = new ModelServingService(models, batcher, settings.maxBatchSize());
    List<ServerInterceptor> interceptors = new ArrayList<>();
    if (tracing != null) {
      interceptors.add(new GrpcTracing(tracing).serverInterceptor()); // outermost: the span covers everything
    }
    interceptors.add(new GrpcMetricsInterceptor(metrics));
    GrpcMessageBudget messages = new GrpcMessageBudget(new BodyBudget(settings.grpcMessageBudgetBytes()));
    metrics.watchGrpc(messages.budget());
    this.grpc = new GrpcModelServer(settings.bindAddress(), settings.grpcPort(), settings.maxInboundMessageBytes(),
        service, interceptors, messages);
    this.rest = settings.restPort() < 0 ? null : new RestModelServer(settings.bindAddress(), settings.restPort(),
        settings.maxInboundMessageBytes(), settings.restBodyBudgetBytes(), Math.max(4, 2 * settings.batchThreads()),
        settings.maxQueuedRequests(), service, tracer, propagator, metrics);
  }

  @Override
  public String name() {
    return "model-server";
  }

  @Override
  public synchronized void start() throws Exception {
    List<Component> order = new ArrayList<>(List.of(models, batcher, grpc));
    if (rest != null) {
      order.add(rest);
    }
    try {
      for (Component c : order) {
        c.start();
        started.add(c);
      }
    } catch (Exception e) {
      close();
      throw e;
    }
    log.info("model server up: model '{}' from {}, gRPC {}:{}, REST {}", settings.modelName(),
        settings.basePath(), settings.bindAddress(), grpcPort(), rest == null ? "disabled" : rest.port());
  }

  @Override
  public CheckResult check() {
    List<Component> parts = new ArrayList<>(List.of(models, batcher, grpc));
    if (rest != null) {
      parts.add(rest);
    }
    List<String> problems = new ArrayList<>();
    for (Component c : parts) {
      CheckResult r = c.check();
      if (!r.ok()) {
        problems.add(c.name() + ": " + r.detail());
      }
    }
    // Ready means a version is loaded and every listener runs; the detail names the version.
    return problems.isEmpty() ? models.check() : CheckResult.failed(String.join("; ", problems));
  }

  public int grpcPort() {
    return grpc.port();
  }

  /** The REST port, or -1 when REST is disabled. */
  public int restPort() {
    return rest == null ? -1 : rest.port();
  }

  public ModelManager models() {
    return models;
  }

  public BatchStats batchStats() {
    return batcher.stats();
  }

  @Override
  public synchronized void close() {
    for (int i = started.size() - 1; i >= 0; i--) {
      Component c = started.get(i);
      try {
        c.close();
      } catch (RuntimeException e) {
        log.warn("{} did not close cleanly", c.name(), e);
      }
    }
    started.clear();
  }
}
