package io.visualsearch.searchapi.fresh;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The latest catalog record of every product of every tenant, replayed from the compacted
 * catalog.products topic. Once the replay has reached the end the topic had at start-up, a
 * product absent here has left the feed and is never returned, whatever an index still holds.
 */
public final class CatalogView {

  private final Map<String, Map<String, ProductInfo>> byTenant = new ConcurrentHashMap<>();
  private volatile boolean caughtUp;

  public void upsert(String tenant, ProductInfo product) {
    byTenant.computeIfAbsent(tenant, t -> new ConcurrentHashMap<>()).put(product.sku(), product);
  }

  public void remove(String tenant, String sku) {
    Map<String, ProductInfo> products = byTenant.get(tenant);
    if (products != null) {
      products.remove(sku);
    }
  }

  public ProductInfo get(String tenant, String sku) {
    Map<String, ProductInfo> products = byTenant.get(tenant);
    return products == null ? null : products.get(sku);
  }

  public int size(String tenant) {
    Map<String, ProductInfo> products = byTenant.get(tenant);
    return products == null ? 0 : products.size();
  }

  /** Marks the start-up replay as complete; from then on an unknown product counts as removed. */
  public void markCaughtUp() {
    caughtUp = true;
  }

  public boolean caughtUp() {
    return caughtUp;
  }
}
