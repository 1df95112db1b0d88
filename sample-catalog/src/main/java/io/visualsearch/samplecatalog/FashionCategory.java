package io.visualsearch.samplecatalog;

import java.math.BigDecimal;

/**
 * The ten Fashion-MNIST labels as catalog categories: display name, Google product taxonomy
 * path, the retailer's own product type, and a plausible price band in USD.
 */
public enum FashionCategory {
  T_SHIRT_TOP("T-shirt/top", "Apparel & Accessories > Clothing > Shirts & Tops", "Women > Tops > T-shirts", 8, 35),
  TROUSER("Trouser", "Apparel & Accessories > Clothing > Pants", "Women > Bottoms > Trousers", 25, 90),
  PULLOVER("Pullover", "Apparel & Accessories > Clothing > Shirts & Tops", "Women > Knitwear > Pullovers", 20, 80),
  DRESS("Dress", "Apparel & Accessories > Clothing > Dresses", "Women > Dresses", 25, 150),
  COAT("Coat", "Apparel & Accessories > Clothing > Outerwear > Coats & Jackets", "Women > Outerwear > Coats", 60, 300),
  SANDAL("Sandal", "Apparel & Accessories > Shoes", "Shoes > Sandals", 15, 90),
  SHIRT("Shirt", "Apparel & Accessories > Clothing > Shirts & Tops", "Men > Tops > Shirts", 20, 90),
  SNEAKER("Sneaker", "Apparel & Accessories > Shoes", "Shoes > Sneakers", 35, 180),
  BAG("Bag", "Apparel & Accessories > Handbags, Wallets & Cases > Handbags", "Accessories > Bags", 20, 400),
  ANKLE_BOOT("Ankle boot", "Apparel & Accessories > Shoes", "Shoes > Boots > Ankle boots", 45, 250);

  private final String displayName;
  private final String googleProductCategory;
  private final String productType;
  private final int minPrice;
  private final int maxPrice;

  FashionCategory(String displayName, String googleProductCategory, String productType, int minPrice, int maxPrice) {
    this.displayName = displayName;
    this.googleProductCategory = googleProductCategory;
    this.productType = productType;
    this.minPrice = minPrice;
    this.maxPrice = maxPrice;
  }

  /** The category of a Fashion-MNIST label 0..9. */
  public static FashionCategory ofLabel(int label) {
    if (label < 0 || label >= values().length) {
      throw new IllegalArgumentException("Fashion-MNIST labels are 0..9, got " + label);
    }
    return values()[label];
  }

  public int label() {
    return ordinal();
  }

  public String displayName() {
    return displayName;
  }

  public String googleProductCategory() {
    return googleProductCategory;
  }

  public String productType() {
    return productType;
  }

  /** A price in the band, ending in .99, chosen by {@code seed} (deterministic). */
  BigDecimal price(long seed) {
    int span = maxPrice - minPrice + 1;
    int dollars = minPrice + (int) Math.floorMod(seed, (long) span);
    return BigDecimal.valueOf(dollars).add(new BigDecimal("0.99"));
  }
}
