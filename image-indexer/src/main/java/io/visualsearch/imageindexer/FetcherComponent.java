package io.visualsearch.imageindexer;

import io.visualsearch.imagefetch.ImageFetcher;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;

/**
 * Gives the downloader's connection pool and watchdog thread a place in the host's shutdown
 * order: closed after the consumer loop has drained, so in-flight downloads finish first.
 */
final class FetcherComponent implements Component {

  private final ImageFetcher fetcher;

  FetcherComponent(ImageFetcher fetcher) {
    this.fetcher = fetcher;
  }

  ImageFetcher fetcher() {
    return fetcher;
  }

  @Override
  public String name() {
    return "image-fetcher";
  }

  @Override
  public CheckResult check() {
    return CheckResult.OK;
  }

  @Override
  public void close() {
    fetcher.close();
  }
}
