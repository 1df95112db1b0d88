package io.visualsearch.modelserver;

import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.pipeline.SpanLossMetrics;
import io.visualsearch.runtime.OpsServer;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.tracing.Tracing;
import io.visualsearch.tracing.TracingSettings;

/**
 * Wires the model server as a service, the way every service is wired: tracing first (closed
 * last, so the final spans are flushed), then the ops endpoint ({@code /healthz}, {@code /readyz},
 * {@code /metrics}), then the server itself, so /readyz answers "not ready" until a version is
 * loaded. Used by {@link ModelServerMain} and by anything that runs the model server in-process
 * (demo, benchmarks).
 */
public final class ModelServerService {

  public static final String NAME = "model-server";

  private ModelServerService() {}

  /** The model server's settings plus tracing; the runtime's own settings are added by ServiceMain. */
  public static ConfigDef definition() {
    return new ConfigDef().include(ModelServerSettings.definition()).include(TracingSettings.definition())
        .include(ModelServerHeartbeat.definition());
  }

  /**
   * Adds tracing, the ops endpoint and the model server to {@code host}; {@code config} must hold
   * {@link #definition()} and {@link RuntimeSettings#definition()}. Returns the server (for its ports).
   */
  public static ModelServer wire(Config config, ServiceHost host) {
    String id = config.get(RuntimeSettings.INSTANCE_ID);
    String instance = id == null ? RuntimeSettings.defaultInstanceId() : id;
    PrometheusRegistry registry = new PrometheusRegistry();
    JvmMetrics.builder().register(registry);
    Tracing tracing = host.add(Tracing.create(NAME, instance, config));
    SpanLossMetrics.register(registry, tracing.loss());
    host.add(new OpsServer(config.get(RuntimeSettings.OPS_HOST), config.get(RuntimeSettings.OPS_PORT), registry,
        host::components));
    ModelServer server = host.add(new ModelServer(ModelServerSettings.from(config), tracing, registry));
    ModelServerHeartbeat.wireIfConfigured(config, host, server, instance);
    return server;
  }
}
