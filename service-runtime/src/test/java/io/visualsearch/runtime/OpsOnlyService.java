package io.visualsearch.runtime;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.config.ConfigDef;
import java.util.List;

/** A service of nothing but its ops server, run through {@link ServiceMain} in a process of its own by tests. */
public final class OpsOnlyService {

  private OpsOnlyService() {}

  public static void main(String[] args) {
    System.exit(ServiceMain.run("ops-only", new ConfigDef(), System.getenv(), (config, host) ->
        host.add(new OpsServer(config.get(RuntimeSettings.OPS_HOST), config.get(RuntimeSettings.OPS_PORT),
            new PrometheusRegistry(), List::of))).code());
  }
}
