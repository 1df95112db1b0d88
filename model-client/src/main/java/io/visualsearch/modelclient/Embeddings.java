package io.visualsearch.modelclient;

/** Vectors for a batch of images, in input order, and the model version that produced them. */
public record Embeddings(float[][] vectors, String modelName, long modelVersion, String signature) {

  public int dimension() {
    return vectors.length == 0 ? 0 : vectors[0].length;
  }
}
