package io.visualsearch.indexbuilder;

import io.visualsearch.runtime.ServiceMain;

/** {@code ./visual-search run index-builder}: the builder alone, against the endpoints in the environment. */
public final class IndexBuilderMain {

  private IndexBuilderMain() {}

  public static void main(String[] args) {
    System.exit(ServiceMain.run(IndexBuilderService.NAME, IndexBuilderService.definition(), System.getenv(),
        IndexBuilderService::wire).code());
  }
}
