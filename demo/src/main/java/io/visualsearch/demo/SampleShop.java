package io.visualsearch.demo;

import io.visualsearch.samplecatalog.FashionMnist;
import io.visualsearch.samplecatalog.MerchantFeedWriter;
import io.visualsearch.samplecatalog.SampleImageServer;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One retailer of the sample catalog: its Merchant feed file (the first {@code size} Fashion-MNIST
 * training images, served by a {@link SampleImageServer}), rewritten in place when the retailer
 * changes something — the way a retailer's nightly export replaces its file.
 */
public final class SampleShop {

  private final String tenant;
  private final Path feed;
  private final FashionMnist.Split train;
  private final List<String> header = new ArrayList<>();
  private final List<String[]> rows = new ArrayList<>();

  public SampleShop(String tenant, Path feed, FashionMnist dataset, String imageBaseUrl, int size) throws IOException {
    this.tenant = tenant;
    this.feed = feed.toAbsolutePath();
    this.train = dataset.train();
    StringWriter out = new StringWriter();
    new MerchantFeedWriter(tenant, imageBaseUrl).write(train, size, out);
    String[] lines = out.toString().split("\n");
    header.addAll(List.of(lines[0].split("\t", -1)));
    for (int i = 1; i < lines.length; i++) {
      rows.add(lines[i].split("\t", -1));
    }
    write();
  }

  public String tenant() {
    return tenant;
  }

  /** The source spec catalog-downloader takes: {@code tenant=file:///...}. */
  public String source() {
    return tenant + "=" + feed.toUri();
  }

  public Path feed() {
    return feed;
  }

  public int size() {
    return rows.size();
  }

  /** The product id of the {@code index}-th training image. */
  public static String sku(int index) {
    return MerchantFeedWriter.productId(index);
  }

  /** The catalog photo of a product, as the image server serves it. */
  public byte[] catalogImage(int index) {
    return SampleImageServer.png(train.image(index));
  }

  public String category(int index) {
    return train.category(index).displayName();
  }

  public String field(String sku, String column) {
    return find(sku)[column(column)];
  }

  /** Changes one column of one product and rewrites the feed. */
  public void set(String sku, String column, String value) throws IOException {
    find(sku)[column(column)] = value;
    write();
  }

  public void update(String sku, String column, UnaryOperator<String> change) throws IOException {
    set(sku, column, change.apply(field(sku, column)));
  }

  /** Drops a product from the feed, as a retailer that stopped selling it. */
  public void remove(String sku) throws IOException {
    rows.remove(find(sku));
    write();
  }

  public boolean hasProduct(String sku) {
    return rows.stream().anyMatch(r -> r[0].equals(sku));
  }

  private String[] find(String sku) {
    for (String[] row : rows) {
      if (row[0].equals(sku)) {
        return row;
      }
    }
    throw new IllegalArgumentException(tenant + " has no product " + sku);
  }

  private int column(String name) {
    int i = header.indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException("no column " + name + " in " + header);
    }
    return i;
  }

  private void write() throws IOException {
    StringBuilder text = new StringBuilder(String.join("\t", header)).append('\n');
    for (String[] row : rows) {
      text.append(String.join("\t", row)).append('\n');
    }
    Files.createDirectories(feed.getParent());
    Path partial = feed.resolveSibling(feed.getFileName() + ".partial");
    Files.writeString(partial, text, StandardCharsets.UTF_8);
    // catalog-downloader never reads half a feed.
    Files.move(partial, feed, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
