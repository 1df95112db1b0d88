package io.visualsearch.imageindexer;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.imagefetch.ImageFetcher;
import io.visualsearch.imagevalidation.ImageValidator;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.PipelineService;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.topics.Topics;
import java.util.List;

/** Wires the image-indexer: catalog.products → fetch, validate, store images/&lt;sha256&gt; → images.ready. */
public final class ImageIndexerService {

  public static final String NAME = "image-indexer";

  private ImageIndexerService() {}

  public static ConfigDef definition() {
    return new ConfigDef().include(PipelineService.definition()).include(ObjectStoreSettings.definition())
        .include(ImageIndexerSettings.definition());
  }

  public static void wire(Config config, ServiceHost host) {
    PipelineService pipeline = new PipelineService(NAME, config, host);
    ObjectStore store = pipeline.add(ObjectStore.fromConfig(config, false));
    ImageFetcher fetcher = pipeline.add(new FetcherComponent(new ImageFetcher(
        ImageIndexerSettings.fetchConfig(config), ImageIndexerSettings.addressPolicy(config)))).fetcher();
    IndexerMetrics metrics = new IndexerMetrics(pipeline.registry());
    ImageSource images = new ImageSource(fetcher, new ImageValidator(ImageIndexerSettings.validationPolicy(config)),
        store, pipeline.tracing().tracer(), metrics);
    ProductImageHandler handler = new ProductImageHandler(new ImageStateStore(store), store, images,
        new RetryBudget(config.get(ImageIndexerSettings.RECORD_ATTEMPTS)), metrics);
    pipeline.consume(List.of(Topics.CATALOG_PRODUCTS.name()), handler,
        config.get(ImageIndexerSettings.CONCURRENCY), pipeline.kafkaClients().groupId(NAME));
    pipeline.heartbeat();
  }
}
