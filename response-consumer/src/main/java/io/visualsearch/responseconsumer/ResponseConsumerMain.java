package io.visualsearch.responseconsumer;

import io.visualsearch.runtime.ServiceMain;

/** {@code ./visual-search run response-consumer}: configuration from the environment (see README.md). */
public final class ResponseConsumerMain {

  private ResponseConsumerMain() {}

  public static void main(String[] args) {
    System.exit(ServiceMain.run(ResponseConsumerService.NAME, ResponseConsumerService.definition(), System.getenv(),
        ResponseConsumerService::wire).code());
  }
}
