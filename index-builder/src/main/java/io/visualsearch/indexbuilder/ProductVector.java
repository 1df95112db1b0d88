package io.visualsearch.indexbuilder;

/**
 * The current vector of one product. {@code vector} is L2-normalised and never modified after
 * construction, so snapshots share it with the live catalog instead of copying. Kept lean: one of
 * these lives in memory per product of every tenant.
 *
 * @param imageKey the image the vector was computed from ({@code ImageKeys.of} its sha256; 0 unknown)
 */
record ProductVector(String sku, long id, ModelKey model, float[] vector, long imageKey) {

  boolean sameContent(ProductVector other) {
    return other != null && model.equals(other.model) && java.util.Arrays.equals(vector, other.vector);
  }

  /** The same vector counted under another key of its model ({@link LegacyVariants}). */
  ProductVector withModel(ModelKey other) {
    return new ProductVector(sku, id, other, vector, imageKey);
  }
}
