package io.visualsearch.searchapi.fresh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class CatalogViewTest {

  /** Each parsed record carries its own strings, as protobuf gives them. */
  private static ProductInfo parsed(String sku, String title) {
    return new ProductInfo(sku, title, 12_500_000, new String("USD"), "https://shop.example/" + sku,
        "https://img.example/" + sku + ".jpg", new String("Apparel > Shoes > Boots"), new String("Acme"),
        new String("in_stock"));
  }

  @Test
  void productsShareOneCopyOfTheValuesManyOfThemHave() {
    CatalogView view = new CatalogView();
    ProductInfo a = parsed("a", "Ankle boot");
    ProductInfo b = parsed("b", "Chelsea boot");
    assertNotSame(a.category(), b.category());
    view.upsert("acme", a);
    view.upsert("acme", b);
    ProductInfo keptA = view.get("acme", "a");
    ProductInfo keptB = view.get("acme", "b");
    assertEquals(a, keptA, "kept as given, value for value");
    assertSame(keptA.category(), keptB.category());
    assertSame(keptA.brand(), keptB.brand());
    assertSame(keptA.availability(), keptB.availability());
    assertSame(keptA.currency(), keptB.currency());
  }

  @Test
  void theGoogleCategoryBesideTheProductTypeIsKeptAndSharedToo() {
    CatalogView view = new CatalogView();
    for (String sku : new String[] {"a", "b"}) {
      ProductInfo p = parsed(sku, "Boot");
      view.upsert("acme", new ProductInfo(p.sku(), p.title(), p.priceMicros(), p.currency(), p.link(), p.imageLink(),
          p.category(), p.brand(), p.availability(), null, new String("Apparel & Accessories > Shoes")));
    }
    assertEquals("Apparel & Accessories > Shoes", view.get("acme", "a").otherCategory());
    assertSame(view.get("acme", "a").otherCategory(), view.get("acme", "b").otherCategory());
  }

  @Test
  void aProductIsReadAtThePriceThatAppliesNow() {
    // Filters and answers read the catalog view: both see the sale price only inside its window.
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(1_000);
    java.time.Clock clock = new java.time.Clock() {
      @Override
      public java.time.ZoneId getZone() {
        return java.time.ZoneOffset.UTC;
      }

      @Override
      public java.time.Clock withZone(java.time.ZoneId zone) {
        return this;
      }

      @Override
      public java.time.Instant instant() {
        return java.time.Instant.ofEpochMilli(now.get());
      }
    };
    CatalogView view = new CatalogView(clock);
    view.upsert("acme", new ProductInfo("coat", "Coat", 39_990_000, "USD", "", "", "", "", "",
        new ProductInfo.Sale(19_990_000, new String("USD"), 2_000, 3_000)));
    assertEquals(39_990_000, view.get("acme", "coat").priceMicros());
    now.set(2_000);
    assertEquals(19_990_000, view.get("acme", "coat").priceMicros());
    now.set(3_000);
    assertEquals(39_990_000, view.get("acme", "coat").priceMicros());
    // The scan a rare filter's exact scoring starts from sees the same price.
    now.set(2_500);
    assertEquals(java.util.List.of(19_990_000L),
        view.matching("acme", p -> p.priceMicros() < 20_000_000, 10).stream().map(ProductInfo::priceMicros).toList());
  }

  @Test
  void onlyTheProductsOfTenantsItKeepsAreKept() {
    CatalogView view = new CatalogView(java.time.Clock.systemUTC(), java.util.Set.of("acme")::contains);
    view.upsert("acme", parsed("a", "Ankle boot"));
    view.upsert("gone", parsed("a", "Ankle boot"));
    assertEquals("Ankle boot", view.get("acme", "a").title());
    assertNull(view.get("gone", "a"), "a tenant without an API key: nothing of it on the heap");
    assertEquals(0, view.size("gone"));
  }

  @Test
  void matchingNamesEveryProductOfTheTenantATestAcceptsUpToALimit() {
    CatalogView view = new CatalogView();
    for (int i = 0; i < 30; i++) {
      view.upsert("acme", parsed("boot-" + i, i % 10 == 0 ? "Rare boot" : "Boot"));
      view.upsert("other", parsed("boot-" + i, "Rare boot"));
    }
    java.util.function.Predicate<ProductInfo> rare = p -> p.title().startsWith("Rare");
    assertEquals(java.util.Set.of("boot-0", "boot-10", "boot-20"),
        view.matching("acme", rare, 3).stream().map(ProductInfo::sku).collect(java.util.stream.Collectors.toSet()));
    assertNull(view.matching("acme", rare, 2), "more matches than the limit");
    assertEquals(0, view.matching("nobody", rare, 2).size());
  }

  @Test
  void aProductIsKeptPerTenantUntilRemoved() {
    CatalogView view = new CatalogView();
    view.upsert("acme", parsed("a", "Ankle boot"));
    view.upsert("acme", parsed("a", "Ankle boot, new"));
    assertEquals("Ankle boot, new", view.get("acme", "a").title());
    assertNull(view.get("other", "a"), "another tenant's product");
    view.remove("acme", "a");
    assertNull(view.get("acme", "a"));
    assertEquals(0, view.size("acme"));
  }
}
