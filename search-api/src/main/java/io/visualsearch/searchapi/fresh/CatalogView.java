package io.visualsearch.searchapi.fresh;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * The latest catalog record of every product of every tenant, replayed from the compacted
 * catalog.products topic. Once the replay has reached the end the topic had at start-up, a
 * product absent here has left the feed and is never returned, whatever an index still holds.
 */
public final class CatalogView {

  private final Map<String, Map<String, ProductInfo>> byTenant = new ConcurrentHashMap<>();
  /**
   * One copy of each value few products do not share (categories, brand, availability, currency):
   * every replica holds every tenant's products on its heap, and each record parsed brought its
   * own copies, a third of a product's ~750 bytes.
   */
  private final Interner<String> sharedValues = Interners.newWeakInterner();
  private volatile boolean caughtUp;
  private final Clock clock;
  private final Predicate<String> keeps;

  public CatalogView() {
    this(Clock.systemUTC());
  }

  /** {@code clock} decides which of a product's prices is the price when it is read ({@link ProductInfo#at}). */
  public CatalogView(Clock clock) {
    this(clock, tenant -> true);
  }

  /**
   * @param keeps the tenants whose products are kept (those with an API key): every replica held
   *     every tenant's catalog on its heap, an offboarded retailer's too, for no request to read
   */
  public CatalogView(Clock clock, Predicate<String> keeps) {
    this.clock = clock;
    this.keeps = keeps;
  }

  public void upsert(String tenant, ProductInfo product) {
    if (!keeps.test(tenant)) {
      return;
    }
    ProductInfo.Sale sale = product.sale() == null ? null : new ProductInfo.Sale(product.sale().priceMicros(),
        sharedValues.intern(product.sale().currency()), product.sale().startMs(), product.sale().endMs());
    ProductInfo kept = new ProductInfo(product.sku(), product.title(), product.priceMicros(),
        sharedValues.intern(product.currency()), product.link(), product.imageLink(),
        sharedValues.intern(product.category()), sharedValues.intern(product.brand()),
        sharedValues.intern(product.availability()), sale, sharedValues.intern(product.otherCategory()));
    byTenant.computeIfAbsent(tenant, t -> new ConcurrentHashMap<>()).put(kept.sku(), kept);
  }

  public void remove(String tenant, String sku) {
    Map<String, ProductInfo> products = byTenant.get(tenant);
    if (products != null) {
      products.remove(sku);
    }
  }

  /** The product as a shopper sees it now: the price that applies at this moment, which filters see too. */
  public ProductInfo get(String tenant, String sku) {
    Map<String, ProductInfo> products = byTenant.get(tenant);
    ProductInfo p = products == null ? null : products.get(sku);
    return p == null ? null : p.at(clock.millis());
  }

  /**
   * The products of {@code tenant} that {@code test} accepts, as a shopper sees them now (the price
   * that applies at this moment), at most {@code limit}; null when more than {@code limit} match.
   * A scan of the tenant's whole catalog: for the rare query whose filter the vector search could
   * not satisfy, not for every query.
   */
  public List<ProductInfo> matching(String tenant, Predicate<ProductInfo> test, int limit) {
    Map<String, ProductInfo> products = byTenant.get(tenant);
    List<ProductInfo> found = new ArrayList<>();
    if (products == null) {
      return found;
    }
    long now = clock.millis();
    for (ProductInfo stored : products.values()) {
      ProductInfo p = stored.at(now);
      if (test.test(p)) {
        if (found.size() == limit) {
          return null;
        }
        found.add(p);
      }
    }
    return found;
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
