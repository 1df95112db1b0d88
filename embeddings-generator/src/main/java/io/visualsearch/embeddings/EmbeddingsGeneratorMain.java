package io.visualsearch.embeddings;

import io.visualsearch.runtime.ServiceMain;

public final class EmbeddingsGeneratorMain {

  private EmbeddingsGeneratorMain() {}

  public static void main(String[] args) {
    System.exit(ServiceMain.run(EmbeddingsGeneratorService.NAME, EmbeddingsGeneratorService.definition(),
        System.getenv(), EmbeddingsGeneratorService::wire).code());
  }
}
