package io.visualsearch.topics;

import java.util.Locale;

/**
 * A product's availability on {@code catalog.products}: the Merchant Center values, written in
 * their feed spelling by the catalog-downloader and matched by search filters. Shared so that a
 * filter accepts exactly the spellings a feed may use.
 */
public enum Availability {
  IN_STOCK,
  OUT_OF_STOCK,
  PREORDER,
  BACKORDER;

  /** Accepts "in stock", "in_stock", "In-Stock" and the like. */
  public static Availability parse(String text) {
    String key = text.strip().toLowerCase(Locale.ROOT).replace(' ', '_').replace('-', '_');
    switch (key) {
      case "in_stock":
        return IN_STOCK;
      case "out_of_stock":
        return OUT_OF_STOCK;
      case "preorder":
      case "pre_order":
        return PREORDER;
      case "backorder":
      case "back_order":
        return BACKORDER;
      default:
        throw new IllegalArgumentException(
            "availability '" + text.strip() + "' is not one of in_stock, out_of_stock, preorder, backorder");
    }
  }

  /** The feed spelling, e.g. "in_stock". */
  public String feedValue() {
    return name().toLowerCase(Locale.ROOT);
  }
}
