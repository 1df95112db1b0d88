package io.visualsearch.imageindexer;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.imagefetch.ImageFetcher;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.PipelineService;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.topics.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/** Wires the image-indexer: catalog.products → fetch, validate, store images/&lt;sha256&gt; → images.ready. */
public final class ImageIndexerService {

  public static final String NAME = "image-indexer";
  /**
   * A tenant's products on one host that used up their retries, within the window, before the host
   * is skipped for that tenant; also the different hosts on which they did so before the tenant's
   * next host failures get no rounds.
   */
  static final int FAILING_HOST_PRODUCTS = 3;
  static final Duration FAILING_HOST_WINDOW = Duration.ofMinutes(10);
  /** How often a skipped host gets one product through to see whether it works again. */
  static final Duration FAILING_HOST_PROBE = Duration.ofMinutes(1);
  /** Different hosts unreachable within a minute, none answering: our own way out is down (OutboundNetwork). */
  static final int UNREACHABLE_HOSTS = 3;
  static final Duration UNREACHABLE_WINDOW = Duration.ofMinutes(1);
  /** The longest products wait without spending rounds on one such judgement. */
  static final Duration UNREACHABLE_GRACE = Duration.ofMinutes(10);

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
    OutboundNetwork network = new OutboundNetwork(UNREACHABLE_HOSTS, UNREACHABLE_WINDOW, UNREACHABLE_GRACE,
        System::nanoTime);
    ImageSource images = new ImageSource(fetcher, ImageIndexerSettings.validationPolicy(config),
        store, pipeline.tracing().tracer(), metrics, network, config.get(ImageIndexerSettings.SWEEP_GRACE),
        Clock.systemUTC());
    ProductImageHandler handler = new ProductImageHandler(new ImageStateStore(store), store, images,
        new RetryBudget(config.get(ImageIndexerSettings.RECORD_ATTEMPTS)),
        new FailingHosts(FAILING_HOST_PRODUCTS, FAILING_HOST_WINDOW, FAILING_HOST_PROBE, System::nanoTime), network,
        metrics);
    pipeline.add(new ImageSweeper(store, () -> pipeline.kafkaClients().consumer(NAME + "-sweep",
        NAME + "-sweep-" + pipeline.instance()), config.get(ImageIndexerSettings.SWEEP_INTERVAL),
        config.get(ImageIndexerSettings.SWEEP_GRACE), config.get(ImageIndexerSettings.SWEEP_REPLAY_TIMEOUT),
        Clock.systemUTC(), metrics));
    pipeline.consume(List.of(Topics.CATALOG_PRODUCTS.name()), handler,
        config.get(ImageIndexerSettings.CONCURRENCY), pipeline.kafkaClients().groupId(NAME));
    pipeline.heartbeat();
  }
}
