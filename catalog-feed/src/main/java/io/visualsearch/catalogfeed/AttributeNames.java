package io.visualsearch.catalogfeed;

import java.util.Locale;
import java.util.Set;

/** Merchant attribute names and the spellings feeds use for them. */
final class AttributeNames {

  static final String ID = "id";
  static final String TITLE = "title";
  static final String DESCRIPTION = "description";
  static final String LINK = "link";
  static final String IMAGE_LINK = "image_link";
  static final String ADDITIONAL_IMAGE_LINK = "additional_image_link";
  static final String PRICE = "price";
  static final String SALE_PRICE = "sale_price";
  static final String SALE_PRICE_EFFECTIVE_DATE = "sale_price_effective_date";
  static final String AVAILABILITY = "availability";
  static final String BRAND = "brand";
  static final String GOOGLE_PRODUCT_CATEGORY = "google_product_category";
  static final String PRODUCT_TYPE = "product_type";
  static final String GTIN = "gtin";
  static final String CONDITION = "condition";

  /** A header lacking any of these refuses the whole feed. */
  static final Set<String> REQUIRED = Set.of(ID, TITLE, IMAGE_LINK, PRICE);

  private AttributeNames() {}

  /**
   * "g:image_link", "Image Link", "image-link" and "image_link" all name the same attribute;
   * the plural "additional_image_links" is accepted for the singular.
   */
  static String normalise(String raw) {
    String s = raw.strip().toLowerCase(Locale.ROOT);
    if (s.startsWith("g:")) {
      s = s.substring(2);
    }
    s = s.replace(' ', '_').replace('-', '_');
    if (s.equals("additional_image_links")) {
      return ADDITIONAL_IMAGE_LINK;
    }
    return s;
  }
}
