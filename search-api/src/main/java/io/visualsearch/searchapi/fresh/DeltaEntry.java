package io.visualsearch.searchapi.fresh;

/**
 * The newest embeddings record of one product that a served index does not contain yet: a vector
 * (already prepared for the index's vector space) or, with {@code vector == null}, a deletion.
 */
public record DeltaEntry(String sku, int partition, long offset, String modelName, long modelVersion, float[] vector) {

  public boolean isTombstone() {
    return vector == null;
  }
}
