package io.visualsearch.searchapi.fresh;

/**
 * The newest embeddings record of one product that a served index does not contain yet: a vector
 * (already prepared for the index's vector space) or, with {@code vector == null}, a deletion.
 *
 * @param signature the model signature the vector was computed with ("" when the record does not
 *     say: it then fits any index of its model version)
 * @param variant the generator's vector variant ({@code Embedding.vector_variant}; "" when the
 *     record does not say: it then fits any index of its model version and signature)
 * @param imageKey the image the vector was computed from ({@code ImageKeys.of} its sha256; 0 unknown)
 */
public record DeltaEntry(String sku, int partition, long offset, String modelName, long modelVersion,
    String signature, String variant, float[] vector, long imageKey) {

  /** An entry whose record names no signature. */
  public DeltaEntry(String sku, int partition, long offset, String modelName, long modelVersion, float[] vector,
      long imageKey) {
    this(sku, partition, offset, modelName, modelVersion, "", "", vector, imageKey);
  }

  /** An entry whose record names its signature but not its variant. */
  public DeltaEntry(String sku, int partition, long offset, String modelName, long modelVersion, String signature,
      float[] vector, long imageKey) {
    this(sku, partition, offset, modelName, modelVersion, signature, "", vector, imageKey);
  }

  public boolean isTombstone() {
    return vector == null;
  }

  /** The same record with its vector prepared for a space. */
  DeltaEntry withVector(float[] prepared) {
    return new DeltaEntry(sku, partition, offset, modelName, modelVersion, signature, variant, prepared, imageKey);
  }
}
