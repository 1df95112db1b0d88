package io.visualsearch.searchapi.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.searchapi.ApiException;
import io.visualsearch.proto.events.Money;
import io.visualsearch.proto.events.Product;
import io.visualsearch.searchapi.fresh.CatalogView;
import io.visualsearch.searchapi.fresh.ProductInfo;
import org.junit.jupiter.api.Test;

class FiltersTest {

  /** As catalog.products holds it: the feed's value, whatever spelling the retailer's feed used. */
  static ProductInfo stocked(String availability) {
    return new ProductInfo("sku-1", "Shoe", 10_000_000, "USD", "https://shop/1", "https://img/1", "Shoes", "Acme",
        availability);
  }

  static Filters availability(String availability) {
    return new Filters(null, null, null, availability, null);
  }

  @Test
  void everySpellingTheFeedAcceptsMatchesTheCatalogsValue() {
    assertTrue(availability("in_stock").matches(stocked("in_stock")));
    assertTrue(availability("in stock").matches(stocked("in_stock")));
    assertTrue(availability("In-Stock").matches(stocked("in_stock")));
    assertTrue(availability("in-stock").matches(stocked("in_stock")));
    assertTrue(availability("pre-order").matches(stocked("preorder")));
    assertTrue(availability("pre order").matches(stocked("preorder")));
    assertTrue(availability("pre_order").matches(stocked("preorder")));
    assertTrue(availability("back-order").matches(stocked("backorder")));
    assertTrue(availability("OUT OF STOCK").matches(stocked("out_of_stock")));
    assertTrue(availability("in-stock").matches(stocked("in stock")), "a product spelled as a TSV feed spells it");
    assertFalse(availability("in-stock").matches(stocked("out_of_stock")));
    assertFalse(availability("preorder").matches(stocked("backorder")));
    assertFalse(availability("in_stock").matches(stocked("")), "a product of unknown availability");
  }

  static ProductInfo fromFeed(String productType, String googleCategory) {
    return fromFeed(Product.newBuilder().setProductType(productType).setGoogleProductCategory(googleCategory));
  }

  /** As the catalog view gives it to filters. */
  static ProductInfo fromFeed(Product.Builder product) {
    CatalogView view = new CatalogView();
    view.upsert("acme", ProductInfo.of("dress", product.setId("dress").setTitle("Dress").build()));
    return view.get("acme", "dress");
  }

  static Filters category(String category) {
    return new Filters(category, null, null, null, null);
  }

  /**
   * A feed's product_type is the retailer's own headings; the Google path beside it was ignored,
   * and a filter on "Dresses" dropped every dress filed under "Women > New In".
   */
  @Test
  void theCategoryFilterMatchesTheProductTypeAndTheGoogleCategoryAlike() {
    ProductInfo dress = fromFeed("Women > New In", "Apparel & Accessories > Clothing > Dresses");
    assertEquals("Women > New In", dress.category(), "answers show the retailer's own path");
    assertTrue(category("Dresses").matches(dress));
    assertTrue(category("apparel & accessories > clothing > dresses").matches(dress));
    assertTrue(category("new in").matches(dress));
    assertFalse(category("Shoes").matches(dress));

    ProductInfo googleOnly = fromFeed("", "Apparel & Accessories > Clothing > Dresses");
    assertEquals("Apparel & Accessories > Clothing > Dresses", googleOnly.category());
    assertTrue(category("Dresses").matches(googleOnly));
    assertFalse(category("New In").matches(googleOnly));

    // Read at the price of the moment (a sale inside its window), it keeps both paths.
    ProductInfo onSale = fromFeed(Product.newBuilder().setProductType("Women > New In")
        .setGoogleProductCategory("Apparel & Accessories > Clothing > Dresses")
        .setPrice(Money.newBuilder().setAmountMicros(50_000_000).setCurrency("USD"))
        .setSalePrice(Money.newBuilder().setAmountMicros(30_000_000).setCurrency("USD")).setSalePriceStartMs(1));
    assertEquals(30_000_000, onSale.priceMicros());
    assertTrue(category("Dresses").matches(onSale));

    // A numeric Google category id is a path of one level: matched as written, never by name.
    ProductInfo numbered = fromFeed("Women > New In", "2271");
    assertTrue(category("2271").matches(numbered));
    assertFalse(category("Dresses").matches(numbered));
    assertTrue(category("New In").matches(numbered));

    // A level matches whole, however the feed spaces its separators; part of a level does not.
    ProductInfo tight = fromFeed("Shoes>Boots >  Ankle Boots ", "");
    assertTrue(category("boots").matches(tight));
    assertTrue(category("Ankle Boots").matches(tight));
    assertTrue(category("shoes").matches(tight));
    assertFalse(category("Boot").matches(tight));
    assertFalse(category("Ankle").matches(tight));
    assertFalse(category("Boots > Ankle").matches(tight));
    assertFalse(category("New").matches(dress));
    assertFalse(category("In").matches(dress));
  }

  @Test
  void theFilterHoldsTheCatalogsSpelling() {
    assertEquals("preorder", availability(" Pre-Order ").availability());
    assertEquals("in_stock", availability("in stock").describe().get("availability"));
  }

  @Test
  void anAvailabilityTheCatalogCannotHoldIsRefused() {
    for (String unknown : new String[] {"available", "instock", "sold out", "limited_availability"}) {
      ApiException e = assertThrows(ApiException.class, () -> availability(unknown), unknown);
      assertEquals(400, e.status());
      assertEquals("invalid_availability", e.code());
      assertTrue(e.getMessage().contains("in_stock, out_of_stock, preorder, backorder"), e.getMessage());
    }
    assertEquals(null, availability("  ").availability(), "blank is no filter");
  }

  @Test
  void textFiltersLongerThanTheLimitAreRefusedWhateverTheTransport() {
    String limit = "x".repeat(Filters.MAX_TEXT_CHARS);
    assertEquals(limit, new Filters(null, null, null, null, limit).brand());
    for (int field = 0; field < 3; field++) {
      String tooLong = limit + "x";
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, switch (field) {
        case 0 -> () -> new Filters(tooLong, null, null, null, null);
        case 1 -> () -> new Filters(null, null, null, tooLong, null);
        default -> () -> new Filters(null, null, null, null, tooLong);
      });
      assertTrue(e.getMessage().contains("longer than " + Filters.MAX_TEXT_CHARS), e.getMessage());
    }
  }
}
