package io.visualsearch.indexbuilder;

/**
 * Two SKUs of one tenant hash to the same FAISS id. Building anyway would make one product answer
 * for the other, so the build fails and says which SKUs to rename or re-key.
 */
final class SkuIdCollisionException extends Exception {
  SkuIdCollisionException(String tenant, String skuA, String skuB, long id) {
    super("tenant " + tenant + ": SKUs '" + skuA + "' and '" + skuB + "' both map to FAISS id " + id
        + "; the index cannot tell them apart, so no index is built until one of them changes");
  }
}
