package io.visualsearch.demo;

import io.visualsearch.catalogdownloader.CatalogDownloaderService;
import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.ConfigException;
import io.visualsearch.embeddings.EmbeddingsGeneratorService;
import io.visualsearch.imageindexer.ImageIndexerService;
import io.visualsearch.indexbuilder.IndexBuilderService;
import io.visualsearch.modelserver.ModelServer;
import io.visualsearch.modelserver.ModelServerService;
import io.visualsearch.responseconsumer.ResponseConsumerService;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.OpsServer;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.runtime.ServiceMain;
import io.visualsearch.runtime.ServiceStartException;
import io.visualsearch.searchapi.SearchApiService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Every service of the pipeline in this JVM, each on its own {@link ServiceHost} with its own
 * configuration, tracing and ops endpoint — the same wiring each service's {@code main} does, so
 * what runs here is what runs in production, only co-located. Services start downstream first
 * (model server … catalog-downloader) so nothing produces into a hop that is not listening yet, and
 * stop in the reverse order: intake first.
 */
public final class LocalPipeline implements AutoCloseable {

  private final Map<String, String> env;
  private final List<ServiceHost> started = new ArrayList<>();
  private final Map<String, ServiceHost> byName = new LinkedHashMap<>();
  private ModelServer modelServer;
  private SearchApiService searchApi;

  /** {@code env} holds the stack's endpoints and any per-deployment settings (ports, keys, sources). */
  public LocalPipeline(Map<String, String> env) {
    this.env = new LinkedHashMap<>(env);
  }

  public void start() throws ServiceStartException {
    AtomicReference<ModelServer> model = new AtomicReference<>();
    start(ModelServerService.NAME, ModelServerService.definition(), (c, h) -> model.set(ModelServerService.wire(c, h)));
    modelServer = model.get();
    env.put("MODEL_SERVER_TARGET", "127.0.0.1:" + modelServer.grpcPort());
    start(ResponseConsumerService.NAME, ResponseConsumerService.definition(), ResponseConsumerService::wire);
    AtomicReference<SearchApiService> search = new AtomicReference<>();
    // Process-wide: all the services here share it. search-api's queries are what the demo shows
    // and bench query measures, so they are searched as search-api's own process searches them;
    // the index-builder here trains on one BLAS thread, as it does not in production.
    SearchApiService.tuneProcessForQueries();
    start(SearchApiService.NAME, SearchApiService.definition(), (c, h) -> search.set(SearchApiService.wire(c, h)));
    searchApi = search.get();
    start(IndexBuilderService.NAME, IndexBuilderService.definition(), IndexBuilderService::wire);
    start(EmbeddingsGeneratorService.NAME, EmbeddingsGeneratorService.definition(), EmbeddingsGeneratorService::wire);
    start(ImageIndexerService.NAME, ImageIndexerService.definition(), ImageIndexerService::wire);
    start(CatalogDownloaderService.NAME, CatalogDownloaderService.definition(), CatalogDownloaderService::wire);
  }

  private void start(String name, ConfigDef definition, ServiceMain.Wiring wiring) throws ServiceStartException {
    Config config = definition.include(RuntimeSettings.definition()).parse(env);
    // Bounded as a service's own main bounds its stop: each waited for every component without
    // limit, and a second Ctrl-C does nothing while the shutdown hook runs.
    ServiceHost host = new ServiceHost(name).stopWithin(config.get(RuntimeSettings.SHUTDOWN_TIMEOUT).plusSeconds(10));
    try {
      wiring.wire(config, host);
    } catch (ConfigException e) {
      // A setting refused while wiring (KAFKA_CLIENT_PROPERTIES=acks=1): exit 2, as ServiceMain does.
      host.close();
      close();
      throw e;
    } catch (Exception e) {
      host.close();
      close();
      throw new ServiceStartException(name + ": wiring failed: " + e.getMessage(), e);
    }
    try {
      host.start();
    } catch (ServiceStartException e) {
      close();
      throw e;
    }
    started.add(host);
    byName.put(name, host);
  }

  public ModelServer modelServer() {
    return modelServer;
  }

  public SearchApiService searchApi() {
    return searchApi;
  }

  /** The names of the running services, in start order. */
  public List<String> services() {
    return List.copyOf(byName.keySet());
  }

  /** The port of a service's ops endpoint (/healthz, /readyz, /metrics, and service routes). */
  public int opsPort(String service) {
    ServiceHost host = byName.get(service);
    if (host == null) {
      throw new IllegalArgumentException("no running service " + service);
    }
    for (Component c : host.components()) {
      if (c instanceof OpsServer ops) {
        return ops.port();
      }
    }
    throw new IllegalStateException(service + " has no ops endpoint");
  }

  /**
   * A service that stopped by itself (a component failed, and its host closed it), if any: the
   * pipeline is then broken, and waiting for the catalog to become searchable is pointless.
   * Services stopped with {@link #stop} are not counted.
   */
  public Optional<String> stoppedService() {
    for (Map.Entry<String, ServiceHost> e : new LinkedHashMap<>(byName).entrySet()) {
      try {
        if (e.getValue().awaitStop(Duration.ZERO)) {
          return Optional.of(e.getKey());
        }
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  /** Stops one service, as a crash or a deploy would; the others keep running. */
  public void stop(String service) {
    ServiceHost host = byName.remove(service);
    if (host != null) {
      started.remove(host);
      host.close();
    }
  }

  @Override
  public void close() {
    List<ServiceHost> toClose = new ArrayList<>(started);
    Collections.reverse(toClose);
    started.clear();
    byName.clear();
    for (ServiceHost host : toClose) {
      host.close();
    }
  }
}
