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
