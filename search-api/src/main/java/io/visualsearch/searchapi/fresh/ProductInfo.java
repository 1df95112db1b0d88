package io.visualsearch.searchapi.fresh;

import io.visualsearch.proto.events.Money;
import io.visualsearch.proto.events.Product;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Currency;
import java.util.Locale;

/**
 * What a result shows and filters look at, kept from the latest catalog.products record.
 *
 * @param priceMicros the price, the sale price when one applies whenever this is read
 * @param category the category answers show: the feed's product_type, else its
 *     google_product_category
 * @param sale a sale price with the window it applies in, or null: {@link #at} says which price is
 *     the price at a moment
 * @param otherCategory the google_product_category when {@code category} is the product_type (and
 *     another path), else empty: only the category filter looks at it
 */
public record ProductInfo(String sku, String title, long priceMicros, String currency, String link,
    String imageLink, String category, String brand, String availability, Sale sale, String otherCategory) {

  public ProductInfo {
    otherCategory = otherCategory == null ? "" : otherCategory;
    brand = brand == null ? "" : brand;
    availability = availability == null ? "" : availability;
  }

  /**
   * The availability as answers give it, in the catalog's spelling ("in_stock", "out_of_stock",
   * "preorder", "backorder"); empty when the feed gave none or none of the four.
   */
  public String shownAvailability() {
    if (availability.isBlank()) {
      return "";
    }
    try {
      return io.visualsearch.topics.Availability.parse(availability).feedValue();
    } catch (IllegalArgumentException e) {
      return "";
    }
  }

  /**
   * A sale price and when it applies (epoch millis, start inclusive, end exclusive, 0 open):
   * retailers load a sale days ahead, and the record does not change when it starts.
   */
  public record Sale(long priceMicros, String currency, long startMs, long endMs) {
    boolean appliesAt(long nowMs) {
      return (startMs == 0 || nowMs >= startMs) && (endMs == 0 || nowMs < endMs);
    }
  }

  /** A product whose price does not depend on the time. */
  public ProductInfo(String sku, String title, long priceMicros, String currency, String link, String imageLink,
      String category, String brand, String availability) {
    this(sku, title, priceMicros, currency, link, imageLink, category, brand, availability, null);
  }

  /** A product with one category path. */
  public ProductInfo(String sku, String title, long priceMicros, String currency, String link, String imageLink,
      String category, String brand, String availability, Sale sale) {
    this(sku, title, priceMicros, currency, link, imageLink, category, brand, availability, sale, "");
  }

  /** The product as the record keyed {@code sku} holds it (its id, when set, agrees). */
  public static ProductInfo of(String sku, Product p) {
    boolean onSale = p.hasSalePrice() && p.getSalePrice().getAmountMicros() > 0;
    boolean windowed = onSale && (p.getSalePriceStartMs() > 0 || p.getSalePriceEndMs() > 0);
    Money price = onSale && !windowed ? p.getSalePrice() : p.getPrice();
    Sale sale = windowed ? new Sale(p.getSalePrice().getAmountMicros(), p.getSalePrice().getCurrency(),
        p.getSalePriceStartMs(), p.getSalePriceEndMs()) : null;
    // A retailer's product_type ("Women > New In") is what its shoppers know, so answers show it;
    // the filter also matches the Google path a feed carries beside it ("... > Dresses"), or a
    // filter on "Dresses" dropped every dress the retailer filed under its own headings.
    String category = !p.getProductType().isEmpty() ? p.getProductType() : p.getGoogleProductCategory();
    String other = category.equals(p.getGoogleProductCategory()) ? "" : p.getGoogleProductCategory();
    return new ProductInfo(sku, p.getTitle(), price.getAmountMicros(), price.getCurrency(), p.getLink(),
        p.getImageLink(), category, p.getBrand(), p.getAvailability(), sale, other);
  }

  /**
   * The product as a shopper sees it at {@code nowMs}: its price the sale price inside the sale's
   * window, the regular price outside it (a Black Friday price loaded a week ahead is not the price).
   */
  public ProductInfo at(long nowMs) {
    if (sale == null) {
      return this;
    }
    boolean applies = sale.appliesAt(nowMs);
    return new ProductInfo(sku, title, applies ? sale.priceMicros() : priceMicros,
        applies ? sale.currency() : currency, link, imageLink, category, brand, availability, null, otherCategory);
  }

  /**
   * "12.50 USD", "1500 JPY", "12.345 KWD": the amount with its currency's ISO 4217 minor units, or
   * empty when the feed had no price.
   */
  public String priceText() {
    if (priceMicros <= 0 && currency.isEmpty()) {
      return "";
    }
    String code = currency.toUpperCase(Locale.ROOT);
    String amount = BigDecimal.valueOf(priceMicros, 6).setScale(minorUnits(code), RoundingMode.HALF_UP).toPlainString();
    return code.isEmpty() ? amount : amount + " " + code;
  }

  /**
   * Decimals the currency is written with; 2 for a code Java does not know (a feed's typo, a newer
   * currency) and for those without minor units (XAU, XXX), as every amount was shown before.
   */
  static int minorUnits(String code) {
    try {
      int digits = Currency.getInstance(code).getDefaultFractionDigits();
      return digits >= 0 ? digits : 2;
    } catch (IllegalArgumentException e) {
      return 2;
    }
  }
}
