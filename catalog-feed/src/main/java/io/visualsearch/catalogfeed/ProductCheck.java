package io.visualsearch.catalogfeed;

/**
 * A limit of whatever carries the products on (e.g. the largest record a message bus accepts),
 * applied as row validation: a product it refuses is that row's error, like a missing price, so
 * it leaves the catalog instead of failing every later step. Must be deterministic: both passes
 * of a diff apply it.
 */
@FunctionalInterface
public interface ProductCheck {

  /** Accepts every product. */
  ProductCheck NONE = product -> null;

  /** Null when the product is acceptable, else why not, written for the retailer. */
  String problem(Product product);
}
