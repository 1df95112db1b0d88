package io.visualsearch.searchapi;

import io.visualsearch.runtime.ServiceMain;

/** {@code ./visual-search run search-api}: configuration from the environment (see README.md). */
public final class SearchApiMain {

  private SearchApiMain() {}

  public static void main(String[] args) {
    SearchApiService.tuneProcessForQueries();
    System.exit(ServiceMain.run(SearchApiService.NAME, SearchApiService.definition(), System.getenv(),
        (config, host) -> SearchApiService.wire(config, host)).code());
  }
}
