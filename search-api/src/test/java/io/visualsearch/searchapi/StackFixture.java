package io.visualsearch.searchapi;

import io.visualsearch.config.Config;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.modelclient.ModelClientSettings;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.KafkaClients;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.proto.events.Embedding;
import io.visualsearch.proto.events.Money;
import io.visualsearch.proto.events.Product;
import io.visualsearch.proto.events.ProductUpsert;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.topics.Topics;
import io.visualsearch.tracing.Tracing;
import io.visualsearch.tracing.TracingSettings;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What the integration tests of search-api share: the real stack, the stand-in model server, a
 * producer for catalog/embeddings records, the object store, and a running search-api.
 */
public final class StackFixture implements AutoCloseable {

  public final EmbeddedStack stack;
  public final FakeModelServer model;
  public final Config config;
  public final Producer<byte[], byte[]> producer;
  public final ObjectStore store;
  public final IndexPublication publication;
  private final Tracing tracing;
  private final ModelClient embedder;
  public ServiceHost host;
  public SearchApiService service;

  public StackFixture(EmbeddedStack stack, Map<String, String> extraEnv) throws Exception {
    this.stack = stack;
    this.model = new FakeModelServer();
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    env.put("ZIPKIN_ENDPOINT", "none");
    env.put("MODEL_SERVER_TARGET", model.target());
    env.put("MODEL_IMAGE_SIZE", "32");
    env.put("SEARCH_HTTP_PORT", "0");
    env.put("SEARCH_GRPC_PORT", "0");
    env.put("OPS_PORT", "0");
    env.put("HEALTH_HEARTBEAT_INTERVAL", "1s");
    env.putAll(extraEnv);
    this.config = SearchApiService.definition().include(RuntimeSettings.definition()).parse(env);
    this.producer = new KafkaClients(KafkaSettings.definition().include(TracingSettings.definition()).parse(env))
        .producer("it-producer-" + System.nanoTime());
    this.store = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(env), true);
    store.start();
    this.publication = new IndexPublication(store, producer);
    this.tracing = Tracing.create("it-embedder", "it", config);
    this.embedder = new ModelClient(ModelClientSettings.definition().parse(env), tracing);
    embedder.start();
  }

  /** Starts search-api with the fixture's configuration. */
  public SearchApiService startService() throws Exception {
    host = new ServiceHost("search-api-it");
    SearchApiService.tuneProcessForQueries(); // as its main does: queries searched as in production
    service = SearchApiService.wire(config, host);
    host.start();
    return service;
  }

  public float[] embed(BufferedImage image) throws Exception {
    return embedder.embed(List.of(image)).vectors()[0];
  }

  public void upsertProduct(String tenant, String sku, String title, String category, long priceMicros,
      String availability) throws Exception {
    Product p = Product.newBuilder().setId(sku).setTitle(title).setLink("https://" + tenant + ".example/p/" + sku)
        .setImageLink("https://" + tenant + ".example/img/" + sku + ".jpg")
        .setPrice(Money.newBuilder().setAmountMicros(priceMicros).setCurrency("USD")).setAvailability(availability)
        .setBrand("Acme").setProductType(category).build();
    upsertProduct(tenant, p);
  }

  /** Sends a product as given, links and all. */
  public void upsertProduct(String tenant, Product p) throws Exception {
    send(Topics.CATALOG_PRODUCTS.name(), tenant + "/" + p.getId(),
        ProductUpsert.newBuilder().setTenant(tenant).setProduct(p).build().toByteArray());
  }

  public void removeProduct(String tenant, String sku) throws Exception {
    send(Topics.CATALOG_PRODUCTS.name(), tenant + "/" + sku, null);
    send(Topics.EMBEDDINGS.name(), tenant + "/" + sku, null);
  }

  /** The embedding alone deleted (the product stays in the catalog), as when its image is withdrawn. */
  public void sendEmbeddingTombstone(String tenant, String sku) throws Exception {
    send(Topics.EMBEDDINGS.name(), tenant + "/" + sku, null);
  }

  public void sendEmbedding(String tenant, String sku, float[] vector, long modelVersion) throws Exception {
    sendEmbedding(tenant, sku, vector, modelVersion, "");
  }

  /** The same, of the normalised picture {@code images/<imageSha256>} ("" for none). */
  public void sendEmbedding(String tenant, String sku, float[] vector, long modelVersion, String imageSha256)
      throws Exception {
    Embedding.Builder e = Embedding.newBuilder().setTenant(tenant).setSku(sku).setModelName("default")
        .setModelVersion(modelVersion).setSignature("serving_default").setImageSha256(imageSha256);
    for (float f : vector) {
      e.addVector(f);
    }
    send(Topics.EMBEDDINGS.name(), tenant + "/" + sku, e.build().toByteArray());
  }

  private void send(String topic, String key, byte[] value) throws Exception {
    producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value)).get();
  }

  /** The end offsets of the embeddings topic now: what an index built now would cover. */
  public Map<Integer, Long> embeddingsEnd() {
    Properties p = new Properties();
    p.put("bootstrap.servers", stack.kafkaBootstrapServers());
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = c.partitionsFor(Topics.EMBEDDINGS.name(), Duration.ofSeconds(10)).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      return c.endOffsets(parts).entrySet().stream()
          .collect(Collectors.toMap(e -> e.getKey().partition(), Map.Entry::getValue));
    }
  }

  @Override
  public void close() throws Exception {
    if (host != null) {
      host.close();
    }
    embedder.close();
    tracing.close();
    producer.close();
    store.close();
    model.close();
  }
}
