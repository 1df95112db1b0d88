package io.visualsearch.cluster;

import io.visualsearch.samplecatalog.FashionMnist;
import io.visualsearch.samplecatalog.MerchantFeedWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One retailer's Merchant TSV feed on disk, and the truth the reconciliation compares with: which
 * products are in it, which Fashion-MNIST training image each one shows now, at what price.
 * Changes rewrite the whole file atomically, the way a retailer's export replaces its file.
 */
public final class TenantFeed {

  private static final Pattern IMAGE = Pattern.compile("/images/([0-9]+)\\.png$");
  static final int ID = 0;
  static final int TITLE = 1;
  static final int IMAGE_LINK = 4;
  static final int PRICE = 5;
  static final int SALE_PRICE = 6;

  private final String tenant;
  private final Path file;
  private final String imageBaseUrl;
  private final String header;
  private final Map<String, String[]> rows = new LinkedHashMap<>();
  /** Products not yet in the feed, appended by {@link #addNext()}. */
  private final Deque<String[]> unreleased = new ArrayDeque<>();

  public TenantFeed(String tenant, Path file, FashionMnist.Split train, String imageBaseUrl, int size, int reserve)
      throws IOException {
    this.tenant = tenant;
    this.file = file.toAbsolutePath();
    this.imageBaseUrl = imageBaseUrl;
    StringWriter out = new StringWriter();
    new MerchantFeedWriter(tenant, imageBaseUrl).write(train, size + reserve, out);
    String[] lines = out.toString().split("\n");
    header = lines[0];
    for (int i = 1; i < lines.length; i++) {
      String[] row = lines[i].split("\t", -1);
      if (i <= size) {
        rows.put(row[ID], row);
      } else {
        unreleased.add(row);
      }
    }
    write();
  }

  public String tenant() {
    return tenant;
  }

  public Path file() {
    return file;
  }

  public synchronized List<String> skus() {
    return List.copyOf(rows.keySet());
  }

  public synchronized int size() {
    return rows.size();
  }

  /**
   * The training image of a product drawn at random, in one step: a product picked from
   * {@link #skus()} may be removed by a feed change before its image is looked up.
   */
  public synchronized int randomImage(Random random) {
    if (rows.isEmpty()) {
      throw new IllegalStateException(tenant + " has no products");
    }
    List<String> skus = List.copyOf(rows.keySet());
    return imageIndex(skus.get(random.nextInt(skus.size())));
  }

  /** The training image a product shows in the feed now. */
  public synchronized int imageIndex(String sku) {
    Matcher m = IMAGE.matcher(row(sku)[IMAGE_LINK]);
    if (!m.find()) {
      throw new IllegalStateException("unexpected image link " + row(sku)[IMAGE_LINK]);
    }
    return Integer.parseInt(m.group(1));
  }

  public synchronized String title(String sku) {
    return row(sku)[TITLE];
  }

  /** The price a shopper pays, as search answers show it: the sale price when there is one. */
  public synchronized BigDecimal effectivePrice(String sku) {
    String[] r = row(sku);
    String p = r[SALE_PRICE].isBlank() ? r[PRICE] : r[SALE_PRICE];
    return new BigDecimal(p.split(" ")[0]);
  }

  public synchronized void changePrice(String sku) {
    String[] r = row(sku);
    BigDecimal old = new BigDecimal(r[PRICE].split(" ")[0]);
    r[PRICE] = old.add(BigDecimal.ONE).toPlainString() + " USD";
    r[SALE_PRICE] = "";
  }

  public synchronized void changeImage(String sku, int trainingIndex) {
    row(sku)[IMAGE_LINK] = imageBaseUrl + "/images/" + trainingIndex + ".png";
  }

  public synchronized void remove(String sku) {
    row(sku);
    rows.remove(sku);
  }

  /** Appends the next unreleased product; null when none are left. */
  public synchronized String addNext() {
    String[] r = unreleased.poll();
    if (r == null) {
      return null;
    }
    rows.put(r[ID], r);
    return r[ID];
  }

  private String[] row(String sku) {
    String[] r = rows.get(sku);
    if (r == null) {
      throw new IllegalArgumentException(tenant + " has no product " + sku);
    }
    return r;
  }

  /** Writes the feed atomically: catalog-downloader never reads half a file. */
  public synchronized void write() throws IOException {
    StringBuilder text = new StringBuilder(header).append('\n');
    for (String[] r : rows.values()) {
      text.append(String.join("\t", Arrays.asList(r))).append('\n');
    }
    Files.createDirectories(file.getParent());
    Path partial = file.resolveSibling(file.getFileName() + ".partial");
    Files.writeString(partial, text, StandardCharsets.UTF_8);
    Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
