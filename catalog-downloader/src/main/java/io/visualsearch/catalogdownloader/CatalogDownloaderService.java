package io.visualsearch.catalogdownloader;

import io.visualsearch.catalogfeed.CatalogDiffer;
import io.visualsearch.catalogfeed.DeletionGuard;
import io.visualsearch.catalogfeed.FeedOptions;
import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.PipelineService;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ScratchDirectory;
import io.visualsearch.runtime.ServiceHost;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires the catalog-downloader: feeds → catalog.products. */
public final class CatalogDownloaderService {

  private static final Logger log = LoggerFactory.getLogger(CatalogDownloaderService.class);

  public static final String NAME = "catalog-downloader";

  private CatalogDownloaderService() {}

  public static ConfigDef definition() {
    return new ConfigDef().include(PipelineService.definition()).include(ObjectStoreSettings.definition())
        .include(CatalogDownloaderSettings.definition());
  }

  /** @throws io.visualsearch.config.ConfigException when a feed is one {@link FeedRules} refuses */
  public static void wire(Config config, ServiceHost host) {
    List<FeedLocation> sources = config.get(CatalogDownloaderSettings.SOURCES).stream().map(FeedLocation::parse).toList();
    FeedRules.of(config).require(sources);
    if (sources.isEmpty()) {
      // Not an error (an instance may be brought up before its first retailer), but said: with the
      // feeds moved to a Secret that an upgrade did not create, the catalog froze without a word.
      log.warn("no feed sources (CATALOG_SOURCES is empty): nothing is synced, and POST /sync answers 404 for"
          + " every tenant");
    }
    PipelineService pipeline = new PipelineService(NAME, config, host);
    ObjectStore store = pipeline.add(ObjectStore.fromConfig(config, false));
    CatalogSync sync = sync(config, pipeline, store);
    SyncMetrics metrics = new SyncMetrics(pipeline.registry(), java.time.Clock.systemUTC());
    SyncScheduler scheduler = new SyncScheduler(metrics.counting(sync::run), sources,
        config.get(CatalogDownloaderSettings.INTERVAL),
        SyncLeases.TTL, config.get(CatalogDownloaderSettings.SYNC_RETRY))
        .syncingAtOnce(config.get(CatalogDownloaderSettings.SYNC_THREADS))
        .drainWithin(() -> host.stopTimeLeft(config.get(RuntimeSettings.SHUTDOWN_TIMEOUT)));
    SyncEndpoint endpoint = new SyncEndpoint(scheduler, config.get(CatalogDownloaderSettings.SYNC_REPLY_WAIT));
    pipeline.ops().route("/sync", endpoint);
    // The endpoint closes after the scheduler (reverse order): the reports of the syncs in hand go out.
    pipeline.add(endpoint);
    pipeline.add(scheduler);
    pipeline.heartbeat();
  }

  /**
   * @throws io.visualsearch.config.ConfigException when CATALOG_MAX_ROW_BYTES does not fit in one Kafka record
   */
  static CatalogSync sync(Config config, PipelineService pipeline, ObjectStore store) {
    return sync(config, pipeline, store, pipeline.instance());
  }

  /**
   * @param leaseOwner names this process in tenants' sync leases: a lease of the same owner but
   *     another run is taken over at once, as left by this instance's killed predecessor, so two
   *     processes that run at the same time must never share it
   */
  static CatalogSync sync(Config config, PipelineService pipeline, ObjectStore store, String leaseOwner) {
    RecordSizeLimit recordLimit = RecordSizeLimit.of(config);
    recordLimit.requireRowLimitFits(config.get(CatalogDownloaderSettings.MAX_ROW_BYTES));
    FeedOptions options = FeedOptions.defaults()
        .withMaxRowBytes(config.get(CatalogDownloaderSettings.MAX_ROW_BYTES))
        .withMaxFeedBytes(config.get(CatalogDownloaderSettings.MAX_FEED_BYTES))
        .withMaxProducts(config.get(CatalogDownloaderSettings.MAX_PRODUCTS));
    DeletionGuard guard = new DeletionGuard(config.get(CatalogDownloaderSettings.MAX_DELETE_SHARE),
        config.get(CatalogDownloaderSettings.GUARD_MIN_CATALOG));
    FeedBucketClient feedBuckets = pipeline.add(new FeedBucketClient(config));
    ScratchDirectory spool = pipeline.add(new ScratchDirectory(Path.of(config.get(CatalogDownloaderSettings.SPOOL_DIR))));
    FeedFetcher fetcher = new FeedFetcher(config.get(CatalogDownloaderSettings.HTTP_TIMEOUT),
        config.get(CatalogDownloaderSettings.MAX_FEED_BYTES), feedBuckets::forBucket, spool.path(),
        CatalogDownloaderSettings.feedAddresses(config));
    CatalogTopicIds topicIds = new CatalogTopicIds(() -> pipeline.kafkaClients().consumer(NAME + "-recovery",
        NAME + "-recovery-" + pipeline.instance()),
        config.get(CatalogDownloaderSettings.RECOVERY_TIMEOUT));
    return new CatalogSync(fetcher, new CatalogDiffer(options, guard), new CatalogStateStore(store),
        pipeline.producer()::producer, recordLimit, pipeline.tracing(), pipeline.activity(),
        new SyncLeases(store, leaseOwner), topicIds);
  }
}
