package io.visualsearch.samplecatalog;

import io.visualsearch.topics.Availability;
import static org.junit.jupiter.api.Assertions.*;

import io.visualsearch.catalogfeed.FeedParser;
import io.visualsearch.catalogfeed.FeedOptions;
import io.visualsearch.catalogfeed.FeedSink;
import io.visualsearch.catalogfeed.FeedSummary;
import io.visualsearch.catalogfeed.FeedFormat;
import io.visualsearch.catalogfeed.Product;
import io.visualsearch.catalogfeed.RowError;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Needs the Debian package dataset-fashion-mnist (fails, not skips, without it). */
class SampleCatalogTest {

  private static final FashionMnist DATASET = FashionMnist.debian();

  @BeforeAll
  static void datasetInstalled() {
    assertTrue(DATASET.isAvailable(), "apt-get install dataset-fashion-mnist");
  }

  @Test
  void readsBothSplitsWithBalancedLabels() throws Exception {
    FashionMnist.Split train = DATASET.train();
    FashionMnist.Split test = DATASET.test();
    assertEquals(60_000, train.size());
    assertEquals(10_000, test.size());
    int[] perLabel = new int[10];
    for (int i = 0; i < train.size(); i++) {
      perLabel[train.label(i)]++;
    }
    for (int count : perLabel) {
      assertEquals(6_000, count, "Fashion-MNIST's training split is balanced");
    }
    assertEquals(FashionCategory.ANKLE_BOOT, train.category(0), "the first training image is an ankle boot");
    assertEquals(784, train.image(0).length);
    assertThrows(IndexOutOfBoundsException.class, () -> test.image(10_000));
  }

  @Test
  void idxReaderRefusesWrongFiles(@TempDir Path dir) throws Exception {
    Path labelsAsImages = dir.resolve("bad.gz");
    Files.copy(FashionMnist.DEBIAN_DIR.resolve("t10k-labels-idx1-ubyte.gz"), labelsAsImages);
    assertThrows(IOException.class, () -> IdxReader.read(labelsAsImages, 3));
    Path truncated = dir.resolve("short.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(truncated))) {
      out.write(new byte[] {0, 0, 8, 1, 0, 0, 0, 100, 1, 2, 3});
    }
    assertThrows(IOException.class, () -> IdxReader.read(truncated, 1));
  }

  @Test
  void generatedFeedIsAcceptedByTheFeedParserWithoutErrors() throws Exception {
    StringWriter tsv = new StringWriter();
    new MerchantFeedWriter("demo", "http://127.0.0.1:8090/").write(DATASET.train(), 500, tsv);
    List<Product> products = new ArrayList<>();
    List<RowError> errors = new ArrayList<>();
    FeedSummary summary = new FeedParser(FeedOptions.defaults()).parse(
        new ByteArrayInputStream(tsv.toString().getBytes(StandardCharsets.UTF_8)), new FeedSink() {
          @Override
          public void product(Product product, long line) {
            products.add(product);
          }

          @Override
          public void rowError(RowError error) {
            errors.add(error);
          }
        });
    assertEquals(List.of(), errors);
    assertEquals(FeedFormat.TSV, summary.format());
    assertEquals(500, products.size());
    Product first = products.get(0);
    assertEquals("fm-000000", first.id());
    assertEquals("Ankle boot #0", first.title());
    assertEquals("http://127.0.0.1:8090/images/0.png", first.imageLink());
    assertEquals("http://127.0.0.1:8090/shop/demo/products/fm-000000", first.link());
    assertEquals("Shoes > Boots > Ankle boots", first.productType());
    assertEquals("USD", first.price().currency().getCurrencyCode());
    Set<Availability> availabilities = EnumSet.noneOf(Availability.class);
    Set<String> brands = new HashSet<>();
    for (Product p : products) {
      availabilities.add(p.availability());
      brands.add(p.brand());
      assertTrue(p.price().amount().doubleValue() >= 8 && p.price().amount().doubleValue() < 401, p.toString());
      if (p.salePrice() != null) {
        assertTrue(p.salePrice().amount().compareTo(p.price().amount()) < 0, p.toString());
      }
    }
    assertEquals(EnumSet.of(Availability.IN_STOCK, Availability.OUT_OF_STOCK, Availability.PREORDER), availabilities);
    assertTrue(brands.size() > 4);
  }

  @Test
  void feedsAreDeterministicAndNeverUseTheTestSplit() throws Exception {
    MerchantFeedWriter writer = new MerchantFeedWriter("demo", "http://127.0.0.1:1");
    StringWriter a = new StringWriter();
    StringWriter b = new StringWriter();
    writer.write(DATASET.train(), 100, a);
    writer.write(DATASET.train(), 100, b);
    assertEquals(a.toString(), b.toString());
    assertThrows(IllegalArgumentException.class, () -> writer.write(DATASET.test(), 10, new StringWriter()));
    assertThrows(IllegalArgumentException.class, () -> writer.write(DATASET.train(), 60_001, new StringWriter()));
  }

  @Test
  void mainWritesTheFeedFile(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("feeds/demo.tsv");
    SampleCatalogMain.main(new String[] {"--size", "25", "--tenant", "demo", "--base-url",
        "http://127.0.0.1:9999", "--out", out.toString()});
    List<String> lines = Files.readAllLines(out);
    assertEquals(26, lines.size());
    assertTrue(lines.get(25).startsWith("fm-000024\t"));
    assertFalse(Files.exists(dir.resolve("feeds/demo.tsv.partial")));
  }

  @Test
  void imageServerServesTrainingImagesAsPngWithEtags() throws Exception {
    try (SampleImageServer server = new SampleImageServer(DATASET, 0)) {
      server.start();
      assertTrue(server.check().ok());
      HttpURLConnection get = open(server.baseUrl() + "/images/7.png");
      assertEquals(200, get.getResponseCode());
      assertEquals("image/png", get.getHeaderField("Content-Type"));
      BufferedImage img;
      try (InputStream in = get.getInputStream()) {
        img = ImageIO.read(in);
      }
      assertEquals(28, img.getWidth());
      byte[] expected = DATASET.train().image(7);
      for (int i = 0; i < expected.length; i++) {
        assertEquals(expected[i] & 0xFF, img.getRaster().getSample(i % 28, i / 28, 0), "pixel " + i);
      }
      HttpURLConnection again = open(server.baseUrl() + "/images/7.png");
      again.setRequestProperty("If-None-Match", get.getHeaderField("ETag"));
      assertEquals(304, again.getResponseCode());
      assertEquals(404, open(server.baseUrl() + "/images/60000.png").getResponseCode());
      assertEquals(404, open(server.baseUrl() + "/images/../etc/passwd").getResponseCode());
      server.close();
      assertFalse(server.check().ok());
    }
  }

  private static HttpURLConnection open(String url) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
    c.setConnectTimeout(5000);
    c.setReadTimeout(5000);
    return c;
  }
}
