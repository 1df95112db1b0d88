package io.visualsearch.catalogfeed;

import io.visualsearch.topics.Availability;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The differ republishes a product only when its hash changes, so a field left out of the hash is
 * a change that never reaches the index (a new image link never re-embedded, a price never shown).
 * Every component of {@link Product} is varied, found by reflection: a field added to the record
 * but not to the hasher fails here too.
 */
class ProductHasherTest {

  private final ProductHasher hasher = new ProductHasher();

  private static final Product BASE = new Product("p-1", "Hat", "A hat", "https://shop.example/p-1",
      "https://img.example/p-1.jpg", List.of("https://img.example/p-1-b.jpg"), Money.parse("12.90 USD"),
      Money.parse("9.90 USD"), Availability.IN_STOCK, "Acme", "Apparel > Hats", "hats", "0001234567890", "new");

  @Test
  void everyFieldOfTheProductChangesItsHash() throws Exception {
    long base = hasher.hash(BASE);
    RecordComponent[] components = Product.class.getRecordComponents();
    for (int changed = 0; changed < components.length; changed++) {
      Object[] args = new Object[components.length];
      Class<?>[] types = new Class<?>[components.length];
      for (int i = 0; i < components.length; i++) {
        types[i] = components[i].getType();
        Object value = components[i].getAccessor().invoke(BASE);
        args[i] = i == changed ? otherThan(value, types[i]) : value;
      }
      Product variant = Product.class.getDeclaredConstructor(types).newInstance(args);
      assertNotEquals(base, hasher.hash(variant), "a change to " + components[changed].getName()
          + " alone must change the hash");
    }
  }

  @Test
  void aSalePriceRemovedAndOneMovedBetweenFieldsAreChanges() {
    Product noSale = new Product("p-1", "Hat", "A hat", "https://shop.example/p-1", "https://img.example/p-1.jpg",
        List.of("https://img.example/p-1-b.jpg"), Money.parse("12.90 USD"), null, Availability.IN_STOCK, "Acme",
        "Apparel > Hats", "hats", "0001234567890", "new");
    assertNotEquals(hasher.hash(BASE), hasher.hash(noSale));
    // Length-prefixed fields: text moved from one field to its neighbour is not the same product.
    Product shifted = new Product("p-1", "HatA hat", "", "https://shop.example/p-1", "https://img.example/p-1.jpg",
        List.of("https://img.example/p-1-b.jpg"), Money.parse("12.90 USD"), Money.parse("9.90 USD"),
        Availability.IN_STOCK, "Acme", "Apparel > Hats", "hats", "0001234567890", "new");
    assertNotEquals(hasher.hash(BASE), hasher.hash(shifted));
  }

  @Test
  void aProductWithoutASaleWindowHashesAsBeforeWindowsWereRead() {
    // Every product of every catalog re-sent at the first sync after an upgrade is a re-embedding
    // nobody asked for; only products that carry a window now change.
    assertEquals(1292417455153317746L, hasher.hash(BASE));
  }

  @Test
  void equalProductsHashEqually() {
    Product same = new Product("p-1", "Hat", "A hat", "https://shop.example/p-1", "https://img.example/p-1.jpg",
        new ArrayList<>(List.of("https://img.example/p-1-b.jpg")), Money.parse("12.90 USD"), Money.parse("9.90 USD"),
        Availability.IN_STOCK, "Acme", "Apparel > Hats", "hats", "0001234567890", "new");
    assertEquals(hasher.hash(BASE), hasher.hash(same));
  }

  private static Object otherThan(Object value, Class<?> type) {
    if (type == String.class) {
      return value + "x";
    }
    if (type == List.class) {
      List<Object> longer = new ArrayList<>((List<?>) value);
      longer.add("https://img.example/other.jpg");
      return longer;
    }
    if (type == Money.class) {
      return Money.parse("99.00 USD");
    }
    if (type == SaleWindow.class) {
      return value.equals(SaleWindow.ALWAYS) ? new SaleWindow(1_000, 2_000) : SaleWindow.ALWAYS;
    }
    if (type == Availability.class) {
      return value == Availability.IN_STOCK ? Availability.OUT_OF_STOCK : Availability.IN_STOCK;
    }
    return fail("no variation for a " + type.getSimpleName() + " field; add one");
  }
}
