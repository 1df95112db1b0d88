package io.visualsearch.modelserver;

import io.visualsearch.runtime.ServiceMain;

/** {@code run model-server}: serves the SavedModels under MODEL_SERVER_BASE_PATH until stopped. */
public final class ModelServerMain {

  private ModelServerMain() {}

  public static void main(String[] args) {
    int code = ServiceMain.run(ModelServerService.NAME, ModelServerService.definition(), System.getenv(),
        ModelServerService::wire).code();
    System.exit(code);
  }
}
