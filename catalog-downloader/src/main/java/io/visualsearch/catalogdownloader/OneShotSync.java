package io.visualsearch.catalogdownloader;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.pipeline.PipelineService;
import io.visualsearch.runtime.ExitCode;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** The catalog sync job's form of the downloader: one feed, one sync, a progress bar, an exit code. */
final class OneShotSync {

  static final int REFUSED = 5;
  /** Another sync of the tenant is running; try again later. */
  static final int BUSY = 6;

  private OneShotSync() {}

  static int run(String[] args, Map<String, String> env) {
    if (args.length != 3) {
      System.err.println("usage: catalog-downloader sync <tenant> <feed-url>");
      return ExitCode.CONFIG_ERROR.code();
    }
    FeedLocation location;
    Config config;
    try {
      java.net.URI feed;
      try {
        feed = new java.net.URI(args[2]);
      } catch (java.net.URISyntaxException e) {
        // Not the parser's words: they quote the whole URL, the retailer's token with it, into the job's log.
        throw new IllegalArgumentException("the feed URL is not a valid URI (character " + e.getIndex() + ": "
            + e.getReason() + ")");
      }
      location = new FeedLocation(args[1], feed);
      // Run with `kubectl exec` in a downloader's pod, it inherits the pod's OPS_PORT, which the
      // running service holds: a job of minutes needs no probes, so its ops port is any free one.
      Map<String, String> jobEnv = new HashMap<>(env);
      jobEnv.put(RuntimeSettings.OPS_PORT.env(), "0");
      config = CatalogDownloaderService.definition().include(RuntimeSettings.definition()).parse(jobEnv);
      FeedRules.of(config).require(List.of(location), "the feed");
    } catch (IllegalArgumentException | ConfigException e) {
      System.err.println("catalog-downloader sync: " + e.getMessage());
      return ExitCode.CONFIG_ERROR.code();
    }
    ServiceHost host = new ServiceHost(CatalogDownloaderService.NAME);
    try {
      PipelineService pipeline = new PipelineService(CatalogDownloaderService.NAME, config, host);
      ObjectStore store = pipeline.add(ObjectStore.fromConfig(config, false));
      // Its own lease owner: run with `kubectl exec` in a downloader's pod, it inherits the pod's
      // instance id, and a lease of the same owner is taken over at once as a dead run's.
      CatalogSync sync = CatalogDownloaderService.sync(config, pipeline, store, // adds its spool directory
          pipeline.instance() + "/one-shot-" + ProcessHandle.current().pid());
      host.start();
      SyncReport report;
      try (ProgressBar bar = new ProgressBarBuilder().setTaskName("upserts " + location.tenant())
          .setStyle(ProgressBarStyle.ASCII).setInitialMax(-1).build()) {
        report = sync.run(location, bar::stepTo);
      }
      System.out.println(report);
      return switch (report.status()) {
        case APPLIED, NOT_MODIFIED -> ExitCode.OK.code();
        case REFUSED -> REFUSED;
        case FAILED -> ExitCode.FAILED.code();
        case BUSY -> BUSY;
      };
    } catch (ConfigException e) {
      System.err.println("catalog-downloader sync: " + e.getMessage());
      return ExitCode.CONFIG_ERROR.code();
    } catch (Exception e) {
      System.err.println("catalog-downloader sync failed: " + e.getMessage());
      return ExitCode.FAILED.code();
    } finally {
      host.close();
    }
  }
}
