package io.visualsearch.samplecatalog;

import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;

/**
 * Writes a Google Merchant Center TSV feed for the first {@code size} Fashion-MNIST training
 * images: ids {@code fm-000123} (the training index), titles from the category ("Ankle boot
 * #123"), taxonomy and product type per category, and a price, sale price, availability and
 * brand derived deterministically from the index — the same size always gives the same feed.
 */
public final class MerchantFeedWriter {

  static final List<String> BRANDS = List.of(
      "Northwind", "Tailspin", "Fabrikam", "Contoso Wear", "Adatum", "Litware", "Proseware", "Wingtip");

  static final String HEADER = "id\ttitle\tdescription\tlink\timage_link\tprice\tsale_price\tavailability"
      + "\tbrand\tgoogle_product_category\tproduct_type\tcondition\n";

  private final String tenant;
  private final String baseUrl;

  /** {@code baseUrl} serves {@code /images/<index>.png} (see {@link SampleImageServer}). */
  public MerchantFeedWriter(String tenant, String baseUrl) {
    if (!tenant.matches("[a-z0-9][a-z0-9-]{0,62}")) {
      throw new IllegalArgumentException("tenant must be lower-case letters, digits and dashes: " + tenant);
    }
    this.tenant = tenant;
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
  }

  public static String productId(int trainingIndex) {
    return String.format("fm-%06d", trainingIndex);
  }

  /** Writes the header and {@code size} rows; the test split is never touched. */
  public void write(FashionMnist.Split train, int size, Writer out) throws IOException {
    if (!train.name().equals("train")) {
      throw new IllegalArgumentException("feeds are made from the training split only, not " + train.name());
    }
    if (size < 0 || size > train.size()) {
      throw new IllegalArgumentException("size must be within 0.." + train.size());
    }
    out.write(HEADER);
    for (int i = 0; i < size; i++) {
      out.write(row(i, train.category(i)));
    }
    out.flush();
  }

  String row(int index, FashionCategory category) {
    long r = mix(index);
    BigDecimal price = category.price(r);
    String sale = "";
    if (Math.floorMod(r >>> 8, 100) < 15) {
      BigDecimal discounted = price.multiply(new BigDecimal("0.8")).setScale(0, RoundingMode.DOWN)
          .add(new BigDecimal("0.99"));
      if (discounted.compareTo(price) < 0) {
        sale = discounted.toPlainString() + " USD";
      }
    }
    int stock = (int) Math.floorMod(r >>> 16, 100);
    String availability = stock < 2 ? "preorder" : stock < 10 ? "out_of_stock" : "in_stock";
    String brand = BRANDS.get((int) Math.floorMod(r >>> 24, BRANDS.size()));
    String id = productId(index);
    String title = category.displayName() + " #" + index;
    return String.join("\t",
        id,
        title,
        brand + " " + category.displayName().toLowerCase(java.util.Locale.ROOT) + ", catalog item " + index,
        baseUrl + "/shop/" + tenant + "/products/" + id,
        baseUrl + "/images/" + index + ".png",
        price.toPlainString() + " USD",
        sale,
        availability,
        brand,
        category.googleProductCategory(),
        category.productType(),
        "new") + "\n";
  }

  /** SplitMix64's finaliser: a fixed, well-spread function of the index (no Random state). */
  private static long mix(long x) {
    long z = x + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
