package io.visualsearch.catalogfeed;

import io.visualsearch.topics.Availability;
import java.util.List;
import java.util.Objects;

/**
 * One catalog product as the retailer's feed describes it, already normalised (trimmed, NFC,
 * whitespace collapsed) so that two feeds saying the same thing yield equal records and equal
 * content hashes. Tenant-independent: the service adds the tenant when it keys the record.
 *
 * <p>Optional text attributes are {@code ""} when absent, never null; {@code salePrice} is null
 * when the feed has none; {@code saleWindow} is {@link SaleWindow#ALWAYS} unless the feed says when
 * the sale price applies (and only with a sale price).
 */
public record Product(
    String id,
    String title,
    String description,
    String link,
    String imageLink,
    List<String> additionalImageLinks,
    Money price,
    Money salePrice,
    Availability availability,
    String brand,
    String googleProductCategory,
    String productType,
    String gtin,
    String condition,
    SaleWindow saleWindow) {

  /** A product whose sale price, if any, always applies. */
  public Product(String id, String title, String description, String link, String imageLink,
      List<String> additionalImageLinks, Money price, Money salePrice, Availability availability, String brand,
      String googleProductCategory, String productType, String gtin, String condition) {
    this(id, title, description, link, imageLink, additionalImageLinks, price, salePrice, availability, brand,
        googleProductCategory, productType, gtin, condition, SaleWindow.ALWAYS);
  }

  public Product {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(title, "title");
    Objects.requireNonNull(imageLink, "imageLink");
    Objects.requireNonNull(price, "price");
    Objects.requireNonNull(availability, "availability");
    description = Objects.requireNonNullElse(description, "");
    link = Objects.requireNonNullElse(link, "");
    brand = Objects.requireNonNullElse(brand, "");
    googleProductCategory = Objects.requireNonNullElse(googleProductCategory, "");
    productType = Objects.requireNonNullElse(productType, "");
    gtin = Objects.requireNonNullElse(gtin, "");
    condition = Objects.requireNonNullElse(condition, "");
    additionalImageLinks = List.copyOf(Objects.requireNonNullElse(additionalImageLinks, List.of()));
    saleWindow = salePrice == null ? SaleWindow.ALWAYS : Objects.requireNonNullElse(saleWindow, SaleWindow.ALWAYS);
  }

  /** The price a shopper pays at {@code nowMs}: the sale price when there is one and its window holds. */
  public Money effectivePrice(long nowMs) {
    return salePrice != null && saleWindow.contains(nowMs) ? salePrice : price;
  }
}
