package io.visualsearch.imageindexer;

import io.visualsearch.runtime.ServiceMain;

/** {@code run image-indexer}: the service, configured from the environment. */
public final class ImageIndexerMain {

  private ImageIndexerMain() {}

  public static void main(String[] args) {
    System.exit(ServiceMain.run(ImageIndexerService.NAME, ImageIndexerService.definition(), System.getenv(),
        ImageIndexerService::wire).code());
  }
}
