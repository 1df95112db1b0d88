package io.visualsearch.searchapi.search;

import io.visualsearch.searchapi.fresh.ProductInfo;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Restrictions a storefront puts on results. Text fields compare case-insensitively; a category
 * matches the product's whole category path or any one level of it ("Apparel > Shoes" matches
 * "shoes"); prices are in micros of the currency unit, bounds inclusive.
 */
public record Filters(String category, Long minPriceMicros, Long maxPriceMicros, String availability, String brand) {

  public static final Filters NONE = new Filters(null, null, null, null, null);

  public Filters {
    category = blankToNull(category);
    availability = blankToNull(availability);
    brand = blankToNull(brand);
    if (minPriceMicros != null && minPriceMicros < 0 || maxPriceMicros != null && maxPriceMicros < 0) {
      throw new IllegalArgumentException("prices cannot be negative");
    }
    if (minPriceMicros != null && maxPriceMicros != null && minPriceMicros > maxPriceMicros) {
      throw new IllegalArgumentException("min_price is above max_price");
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }

  public boolean isEmpty() {
    return category == null && minPriceMicros == null && maxPriceMicros == null && availability == null && brand == null;
  }

  public boolean matches(ProductInfo p) {
    if (category != null && !categoryMatches(p.category())) {
      return false;
    }
    if (brand != null && !brand.equalsIgnoreCase(p.brand())) {
      return false;
    }
    if (availability != null && !normaliseAvailability(availability).equals(normaliseAvailability(p.availability()))) {
      return false;
    }
    if (minPriceMicros != null && p.priceMicros() < minPriceMicros) {
      return false;
    }
    return maxPriceMicros == null || p.priceMicros() <= maxPriceMicros;
  }

  private boolean categoryMatches(String productCategory) {
    if (productCategory == null || productCategory.isEmpty()) {
      return false;
    }
    if (productCategory.equalsIgnoreCase(category)) {
      return true;
    }
    for (String level : productCategory.split(">")) {
      if (level.strip().equalsIgnoreCase(category)) {
        return true;
      }
    }
    return false;
  }

  /** Google Merchant writes "in_stock" in XML and "in stock" in TSV feeds. */
  private static String normaliseAvailability(String s) {
    return s == null ? "" : s.strip().toLowerCase(Locale.ROOT).replace('_', ' ');
  }

  /** The filters as flat strings, for the search.responses event. */
  public Map<String, String> describe() {
    Map<String, String> m = new LinkedHashMap<>();
    if (category != null) {
      m.put("category", category);
    }
    if (minPriceMicros != null) {
      m.put("min_price_micros", Long.toString(minPriceMicros));
    }
    if (maxPriceMicros != null) {
      m.put("max_price_micros", Long.toString(maxPriceMicros));
    }
    if (availability != null) {
      m.put("availability", availability);
    }
    if (brand != null) {
      m.put("brand", brand);
    }
    return m;
  }
}
