package io.visualsearch.evaluation;

import io.visualsearch.config.Config;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.KafkaClients;
import io.visualsearch.pipeline.KafkaSettings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;

/** What fine-tuning learns from: labelled images, the names of their labels, and where their features are cached. */
record TrainingSource(String description, LabeledImages images, List<String> categories, String cacheSet) {

  /** Fashion-MNIST's feature-cache set prefix, which the evaluation reads too. */
  private static final String FASHION_MNIST_SET = "train";
  private static final Duration CATALOG_READ_TIMEOUT = Duration.ofMinutes(2);

  /** Fashion-MNIST's training split read from its IDX files (the test split is never read). */
  static TrainingSource fashionMnist(Path dir) throws IOException {
    return new TrainingSource("Fashion-MNIST training split (" + dir + ")", FashionMnistSplits.train(dir),
        FashionMnistSplits.CATEGORIES, FASHION_MNIST_SET);
  }

  /** A retailer's live catalog, read from the pipeline's topics and object store named in {@code env}. */
  static TrainingSource catalog(String tenant, Map<String, String> env) throws IOException {
    if (tenant.isBlank()) {
      throw new IllegalArgumentException("--catalog-tenant needs a tenant");
    }
    Config config = KafkaSettings.definition().include(ObjectStoreSettings.definition()).parse(env);
    CatalogTrainingSet.Catalog catalog;
    try (ObjectStore store = ObjectStore.fromConfig(config, false);
        Consumer<byte[], byte[]> consumer = new KafkaClients(config).consumer("fine-tuning", "fine-tuning-" + tenant)) {
      store.start();
      catalog = CatalogTrainingSet.read(consumer, store, tenant, CATALOG_READ_TIMEOUT);
    }
    // Features are cached per content: the same SKUs with other pictures or categories are another set.
    return new TrainingSource("the live catalog of tenant " + tenant, catalog.images(), catalog.categories(),
        "catalog-" + digest(catalog));
  }

  boolean isFashionMnist() {
    return cacheSet.equals(FASHION_MNIST_SET);
  }

  private static String digest(CatalogTrainingSet.Catalog catalog) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(catalog.images().pixels());
      ByteBuffer labels = ByteBuffer.allocate(catalog.images().labels().length * Integer.BYTES);
      labels.asIntBuffer().put(catalog.images().labels());
      sha.update(labels);
      for (String category : catalog.categories()) {
        sha.update(category.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
      }
      return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  }
}
