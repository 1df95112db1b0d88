package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.Config;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.KafkaClients;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.proto.events.ImageReady;
import io.visualsearch.proto.events.Product;
import io.visualsearch.proto.events.ProductUpsert;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.topics.TopicInitializer;
import io.visualsearch.topics.Topics;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** Training data read back from a live catalog on the real broker and S3 server. */
@ExtendWith(StackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ITCatalogTrainingSet {

  Config config;
  ObjectStore store;
  KafkaProducer<byte[], byte[]> producer;

  @BeforeAll
  void start(EmbeddedStack stack) throws Exception {
    config = KafkaSettings.definition().include(ObjectStoreSettings.definition()).parse(stack.serviceEnvironment());
    store = ObjectStore.fromConfig(config, true);
    store.start();
    Properties p = KafkaSettings.common(config);
    try (Admin admin = Admin.create(p)) {
      new TopicInitializer(admin, 2, (short) 1).ensure(List.of(Topics.CATALOG_PRODUCTS, Topics.IMAGES_READY));
    }
    producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  @AfterAll
  void stop() {
    producer.close();
    store.close();
  }

  @Test
  void theLatestEventOfEachProductDecidesItsCategoryAndOnlyProductsWithAPictureAreKept() throws Exception {
    String tenant = "shop-" + System.nanoTime();
    product(tenant, "a", "Dresses", "");
    product(tenant, "b", "", "Apparel > Shoes");
    product(tenant, "c", "Dresses", "");
    product(tenant, "c", "Bags", "");                    // re-categorised: the latest event counts
    product(tenant, "d", "Bags", "");
    send(Topics.CATALOG_PRODUCTS.name(), tenant, "d", null); // left the feed
    product(tenant, "e", "Bags", "");                    // its image never became ready
    product(tenant, "f", "", "");                        // no category at all
    product(tenant, "g", "Dresses", "");                 // its stored picture is not an image
    product("other-" + tenant, "a", "Hats", "");          // another retailer
    image(tenant, "a", grey(10));
    image(tenant, "b", colour(200, 100, 50));
    image(tenant, "c", grey(90));
    image(tenant, "d", grey(30));
    image(tenant, "f", grey(40));
    ready(tenant, "g", "images/not-an-image");
    store.put("images/not-an-image", "hello".getBytes(StandardCharsets.UTF_8), "image/png");
    producer.flush();

    CatalogTrainingSet.Catalog catalog;
    try (Consumer<byte[], byte[]> consumer = new KafkaClients(config).consumer("it-training", "it-training")) {
      catalog = CatalogTrainingSet.read(consumer, store, tenant, Duration.ofSeconds(60));
    }
    assertEquals(List.of("Apparel > Shoes", "Bags", "Dresses"), catalog.categories());
    assertEquals(List.of("a", "b", "c"), catalog.skus());
    assertArrayEquals(new int[] {2, 0, 1}, catalog.images().labels());
    assertEquals(28, catalog.images().width());
    byte[] a = catalog.images().image(0);
    byte[] expectedA = new byte[28 * 28];
    Arrays.fill(expectedA, (byte) 10);
    assertArrayEquals(expectedA, a, "a grey picture keeps its exact values");
    int luma = Math.round(0.299f * 200 + 0.587f * 100 + 0.114f * 50);
    assertEquals(luma, catalog.images().image(1)[5 * 28 + 5] & 0xff, "a colour picture becomes its luma");
  }

  @Test
  void aCatalogWithFewerThanTwoCategoriesIsRefusedWithAReason() throws Exception {
    String tenant = "mono-" + System.nanoTime();
    product(tenant, "a", "Dresses", "");
    image(tenant, "a", grey(10));
    producer.flush();
    try (Consumer<byte[], byte[]> consumer = new KafkaClients(config).consumer("it-training", "it-training")) {
      IOException e = assertThrows(IOException.class,
          () -> CatalogTrainingSet.read(consumer, store, tenant, Duration.ofSeconds(60)));
      assertTrue(e.getMessage().contains("at least 2"), e.getMessage());
    }
  }

  private void product(String tenant, String sku, String productType, String googleCategory) throws Exception {
    Product product = Product.newBuilder().setId(sku).setTitle(sku).setProductType(productType)
        .setGoogleProductCategory(googleCategory).build();
    send(Topics.CATALOG_PRODUCTS.name(), tenant, sku, ProductUpsert.newBuilder().setTenant(tenant).setProduct(product).build().toByteArray());
  }

  /** Stores the picture (larger than 28x28, so it is scaled) and announces it on images.ready. */
  private void image(String tenant, String sku, BufferedImage picture) throws Exception {
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(picture, "png", png);
    String key = "images/" + tenant + "-" + sku;
    store.put(key, png.toByteArray(), "image/png");
    ready(tenant, sku, key);
  }

  private void ready(String tenant, String sku, String key) throws Exception {
    send(Topics.IMAGES_READY.name(), tenant, sku,
        ImageReady.newBuilder().setTenant(tenant).setSku(sku).setObjectKey(key).build().toByteArray());
  }

  private void send(String topic, String tenant, String sku, byte[] value) throws Exception {
    producer.send(new ProducerRecord<>(topic, (tenant + "/" + sku).getBytes(StandardCharsets.UTF_8), value)).get();
  }

  private static BufferedImage grey(int value) {
    return colour(value, value, value);
  }

  private static BufferedImage colour(int r, int g, int b) {
    BufferedImage image = new BufferedImage(56, 56, BufferedImage.TYPE_INT_RGB);
    int rgb = (r << 16) | (g << 8) | b;
    for (int y = 0; y < 56; y++) {
      for (int x = 0; x < 56; x++) {
        image.setRGB(x, y, rgb);
      }
    }
    return image;
  }
}
