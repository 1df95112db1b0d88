package io.visualsearch.evaluation;

import com.google.protobuf.InvalidProtocolBufferException;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.StoredObject;
import io.visualsearch.imagevalidation.NormalisedImage;
import io.visualsearch.proto.events.ImageReady;
import io.visualsearch.proto.events.Product;
import io.visualsearch.proto.events.ProductUpsert;
import io.visualsearch.topics.Topics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One retailer's live catalog as training data, read back from the pipeline: each product's
 * category from its latest event on {@code catalog.products} ({@code product_type}, else
 * {@code google_product_category}), its picture from the normalised copy image-indexer stored
 * ({@code images.ready} → object store). Products without a category or without a ready image are
 * left out and counted. Images are reduced to the head's training resolution (28x28 grey), so the
 * frozen backbone and the pixel branch see what they see on Fashion-MNIST.
 */
final class CatalogTrainingSet {

  static final int SIDE = 28;
  private static final Logger log = LoggerFactory.getLogger(CatalogTrainingSet.class);

  /** The labelled images, the category name of each label, and the SKU of each image. */
  record Catalog(LabeledImages images, List<String> categories, List<String> skus) {}

  private CatalogTrainingSet() {}

  static Catalog read(Consumer<byte[], byte[]> consumer, ObjectStore store, String tenant, Duration timeout)
      throws IOException {
    String prefix = tenant + "/";
    Map<String, byte[]> products = LatestRecords.read(consumer, Topics.CATALOG_PRODUCTS.name(), prefix, timeout);
    Map<String, byte[]> images = LatestRecords.read(consumer, Topics.IMAGES_READY.name(), prefix, timeout);
    Map<String, String> categoryOf = new TreeMap<>();
    int uncategorised = 0;
    for (Map.Entry<String, byte[]> e : products.entrySet()) {
      String category = category(parseProduct(e.getKey(), e.getValue()).getProduct());
      if (category.isEmpty()) {
        uncategorised++;
      } else {
        categoryOf.put(e.getKey(), category);
      }
    }
    List<String> categories = new ArrayList<>(new TreeSet<>(categoryOf.values()));
    if (categories.size() < 2) {
      throw new IOException("tenant " + tenant + " has " + categories.size() + " product categories in "
          + Topics.CATALOG_PRODUCTS.name() + "; training needs at least 2 (" + products.size() + " products)");
    }
    List<String> skus = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    byte[] pixels = new byte[categoryOf.size() * SIDE * SIDE];
    int withoutImage = 0;
    int unreadable = 0;
    for (Map.Entry<String, String> e : categoryOf.entrySet()) {
      byte[] ready = images.get(e.getKey());
      if (ready == null) {
        withoutImage++;
        continue;
      }
      Optional<StoredObject> object = store.get(parseImage(e.getKey(), ready).getObjectKey());
      BufferedImage decoded = object.isEmpty() ? null : readable(object.get().bytes());
      if (decoded == null) {
        unreadable++;
        continue;
      }
      grey(decoded, pixels, skus.size() * SIDE * SIDE);
      skus.add(e.getKey().substring(prefix.length()));
      labels.add(categories.indexOf(e.getValue()));
    }
    log.info("catalog of {}: {} products, {} categories; {} without a category, {} without a ready image, {} unreadable; "
        + "{} images to train on", tenant, products.size(), categories.size(), uncategorised, withoutImage, unreadable, skus.size());
    byte[] used = java.util.Arrays.copyOf(pixels, skus.size() * SIDE * SIDE);
    return new Catalog(new LabeledImages(used, labels.stream().mapToInt(Integer::intValue).toArray(), SIDE, SIDE),
        categories, skus);
  }

  static String category(Product product) {
    String type = product.getProductType().strip();
    return type.isEmpty() ? product.getGoogleProductCategory().strip() : type;
  }

  /**
   * Luma (BT.601) of the image scaled to 28x28 (bilinear), written at {@code offset}. image-indexer
   * stores sRGB, so a grey product photo has R = G = B and keeps its exact values; drawing into a
   * grey BufferedImage instead would pass through Java's linear grey colour space and shift them.
   */
  static void grey(BufferedImage image, byte[] into, int offset) {
    BufferedImage small = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = small.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(image, 0, 0, SIDE, SIDE, null);
    } finally {
      g.dispose();
    }
    int[] rgb = small.getRGB(0, 0, SIDE, SIDE, null, 0, SIDE);
    for (int i = 0; i < rgb.length; i++) {
      int r = (rgb[i] >> 16) & 0xff;
      int gr = (rgb[i] >> 8) & 0xff;
      int b = rgb[i] & 0xff;
      into[offset + i] = (byte) Math.round(0.299 * r + 0.587 * gr + 0.114 * b);
    }
  }

  private static ProductUpsert parseProduct(String key, byte[] value) throws IOException {
    try {
      return ProductUpsert.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("record " + key + " on " + Topics.CATALOG_PRODUCTS.name() + " is not a ProductUpsert", e);
    }
  }

  private static ImageReady parseImage(String key, byte[] value) throws IOException {
    try {
      return ImageReady.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("record " + key + " on " + Topics.IMAGES_READY.name() + " is not an ImageReady", e);
    }
  }

  /** The stored picture, or null when its bytes are not a readable image (counted and left out). */
  private static BufferedImage readable(byte[] bytes) {
    try {
      return NormalisedImage.decode(bytes);
    } catch (IOException e) {
      return null;
    }
  }
}
