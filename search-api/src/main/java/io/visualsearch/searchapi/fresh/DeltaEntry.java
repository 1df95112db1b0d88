package io.visualsearch.searchapi.fresh;

/**
 * The newest embeddings record of one product that a served index does not contain yet: a vector
 * (already prepared for the index's vector space) or, with {@code vector == null}, a deletion.
 *
 * @param imageKey the image the vector was computed from ({@code ImageKeys.of} its sha256; 0 unknown)
 */
public record DeltaEntry(String sku, int partition, long offset, String modelName, long modelVersion, float[] vector,
    long imageKey) {

  public boolean isTombstone() {
    return vector == null;
  }
}
