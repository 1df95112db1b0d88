package io.visualsearch.catalogdownloader;

import io.visualsearch.runtime.ExitCode;
import io.visualsearch.runtime.ServiceMain;

/**
 * {@code run catalog-downloader}: the service. {@code run catalog-downloader sync <tenant> <url>}:
 * one sync with a progress bar, for a retailer's catalog sync job; exits 0 when applied or
 * unchanged, 5 when the feed was refused, 4 when the sync failed.
 */
public final class CatalogDownloaderMain {

  private CatalogDownloaderMain() {}

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("sync")) {
      System.exit(OneShotSync.run(args, System.getenv()));
    }
    ExitCode code = ServiceMain.run(CatalogDownloaderService.NAME, CatalogDownloaderService.definition(),
        System.getenv(), CatalogDownloaderService::wire);
    System.exit(code.code());
  }
}
