package io.visualsearch.searchapi.fresh;

import io.visualsearch.proto.events.Money;
import io.visualsearch.proto.events.Product;
import java.math.BigDecimal;
import java.util.Locale;

/** What a result shows and filters look at, kept from the latest catalog.products record. */
public record ProductInfo(String sku, String title, long priceMicros, String currency, String link,
    String imageLink, String category, String brand, String availability) {

  public static ProductInfo of(Product p) {
    Money price = p.hasSalePrice() && p.getSalePrice().getAmountMicros() > 0 ? p.getSalePrice() : p.getPrice();
    String category = !p.getProductType().isEmpty() ? p.getProductType() : p.getGoogleProductCategory();
    return new ProductInfo(p.getId(), p.getTitle(), price.getAmountMicros(), price.getCurrency(), p.getLink(),
        p.getImageLink(), category, p.getBrand(), p.getAvailability());
  }

  /** "12.50 USD", or empty when the feed had no price. */
  public String priceText() {
    if (priceMicros <= 0 && currency.isEmpty()) {
      return "";
    }
    String amount = BigDecimal.valueOf(priceMicros, 6).setScale(2, java.math.RoundingMode.HALF_UP).toPlainString();
    return currency.isEmpty() ? amount : amount + " " + currency.toUpperCase(Locale.ROOT);
  }
}
