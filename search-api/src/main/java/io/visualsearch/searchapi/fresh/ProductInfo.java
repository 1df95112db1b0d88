package io.visualsearch.searchapi.fresh;

import io.visualsearch.proto.events.Money;
import io.visualsearch.proto.events.Product;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Currency;
import java.util.Locale;

/** What a result shows and filters look at, kept from the latest catalog.products record. */
public record ProductInfo(String sku, String title, long priceMicros, String currency, String link,
    String imageLink, String category, String brand, String availability) {

  /** The product as the record keyed {@code sku} holds it (its id, when set, agrees). */
  public static ProductInfo of(String sku, Product p) {
    Money price = p.hasSalePrice() && p.getSalePrice().getAmountMicros() > 0 ? p.getSalePrice() : p.getPrice();
    String category = !p.getProductType().isEmpty() ? p.getProductType() : p.getGoogleProductCategory();
    return new ProductInfo(sku, p.getTitle(), price.getAmountMicros(), price.getCurrency(), p.getLink(),
        p.getImageLink(), category, p.getBrand(), p.getAvailability());
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
