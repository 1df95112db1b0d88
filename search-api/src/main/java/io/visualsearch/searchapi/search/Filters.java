package io.visualsearch.searchapi.search;

import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.fresh.ProductInfo;
import io.visualsearch.topics.Availability;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Restrictions a storefront puts on results. Text fields compare case-insensitively; a category
 * matches the product's whole category path or any one level of it ("Apparel > Shoes" matches
 * "shoes"), of its product_type or of its google_product_category (a feed may carry both); prices
 * are in micros of the currency unit, bounds inclusive. Availability is one of the catalog's four
 * values, in any spelling a feed may give it ("In-Stock", "pre order"), held as the
 * catalog writes it ("in_stock", "preorder"); another is refused 400 {@code invalid_availability}.
 */
public record Filters(String category, Long minPriceMicros, Long maxPriceMicros, String availability, String brand) {

  public static final Filters NONE = new Filters(null, null, null, null, null);
  /**
   * Longest text filter, on every transport: each answered query's filters travel on in its
   * {@code search.responses} event and its archived answer, so a megabyte "brand" sent over gRPC
   * filled the shared producer's buffer for every tenant and was archived as a megabyte object.
   */
  public static final int MAX_TEXT_CHARS = 256;

  public Filters {
    category = blankToNull(checkedLength("category", category));
    availability = catalogSpelling(blankToNull(checkedLength("availability", availability)));
    brand = blankToNull(checkedLength("brand", brand));
    if (minPriceMicros != null && minPriceMicros < 0 || maxPriceMicros != null && maxPriceMicros < 0) {
      throw new IllegalArgumentException("prices cannot be negative");
    }
    if (minPriceMicros != null && maxPriceMicros != null && minPriceMicros > maxPriceMicros) {
      throw new IllegalArgumentException("min_price is above max_price");
    }
  }

  private static String checkedLength(String name, String value) {
    if (value != null && value.length() > MAX_TEXT_CHARS) {
      throw new IllegalArgumentException("filter '" + name + "' is longer than " + MAX_TEXT_CHARS + " characters");
    }
    return value;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }

  public boolean isEmpty() {
    return category == null && minPriceMicros == null && maxPriceMicros == null && availability == null && brand == null;
  }

  public boolean matches(ProductInfo p) {
    if (category != null && !categoryMatches(p.category()) && !categoryMatches(p.otherCategory())) {
      return false;
    }
    if (brand != null && !brand.equalsIgnoreCase(p.brand())) {
      return false;
    }
    if (availability != null && !availability.equals(p.availability())
        && !availability.equals(productAvailability(p.availability()))) {
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
    // Level by level without splitting: a rare filter's exact scoring tests a whole catalog.
    int length = productCategory.length();
    for (int start = 0; start < length; ) {
      int end = productCategory.indexOf('>', start);
      end = end < 0 ? length : end;
      int from = start;
      int to = end;
      while (from < to && Character.isWhitespace(productCategory.charAt(from))) {
        from++;
      }
      while (to > from && Character.isWhitespace(productCategory.charAt(to - 1))) {
        to--;
      }
      if (to - from == category.length() && productCategory.regionMatches(true, from, category, 0, to - from)) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }

  /**
   * By the feed's own rule: a filter that only lowercased and read '_' as ' ' matched nothing for
   * "in-stock" or "pre-order", which the feed takes, and an unknown value matched nothing silently.
   */
  private static String catalogSpelling(String availability) {
    if (availability == null) {
      return null;
    }
    try {
      return Availability.parse(availability).feedValue();
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("invalid_availability", e.getMessage());
    }
  }

  /** A product's availability as the catalog writes it; null when it is none of the four. */
  private static String productAvailability(String availability) {
    if (availability == null || availability.isBlank()) {
      return null;
    }
    try {
      return Availability.parse(availability).feedValue();
    } catch (IllegalArgumentException e) {
      return null;
    }
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
