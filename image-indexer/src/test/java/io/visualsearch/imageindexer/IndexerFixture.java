package io.visualsearch.imageindexer;

import io.visualsearch.config.Config;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.proto.events.Money;
import io.visualsearch.proto.events.Product;
import io.visualsearch.proto.events.ProductUpsert;
import io.visualsearch.runtime.OpsServer;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.stack.EmbeddedStack;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** The image-indexer service, as its main wires it, on the shared stack; plus a producer and a store client. */
final class IndexerFixture implements AutoCloseable {

  /** Fast retries so the hostile cases settle quickly; the loopback allow-list the demo uses. */
  static Map<String, String> env(EmbeddedStack stack) {
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    env.put("IMAGE_FETCH_ALLOW", "127.0.0.1/32");
    env.put("IMAGE_FETCH_ATTEMPTS", "1");
    env.put("IMAGE_INDEXER_RECORD_ATTEMPTS", "2");
    env.put("IMAGE_FETCH_READ_TIMEOUT", "1s");
    env.put("IMAGE_FETCH_TOTAL_TIMEOUT", "2s");
    env.put("KAFKA_RETRY_BACKOFF", "100ms");
    env.put("KAFKA_RETRY_BACKOFF_MAX", "500ms");
    return env;
  }

  final ServiceHost host;
  final ObjectStore store;
  final KafkaProducer<byte[], byte[]> producer;
  private final HttpClient http = HttpClient.newHttpClient();

  IndexerFixture(EmbeddedStack stack) throws Exception {
    Config config = ImageIndexerService.definition().include(RuntimeSettings.definition()).parse(env(stack));
    host = new ServiceHost(ImageIndexerService.NAME);
    ImageIndexerService.wire(config, host);
    host.start();
    store = ObjectStore.fromConfig(config, false);
    store.start();
    Properties p = new Properties();
    p.put("bootstrap.servers", stack.kafkaBootstrapServers());
    producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  static ProductUpsert product(String tenant, String sku, String imageLink, long priceMicros) {
    Product p = Product.newBuilder().setId(sku).setTitle("Shirt " + sku).setImageLink(imageLink)
        .setPrice(Money.newBuilder().setAmountMicros(priceMicros).setCurrency("USD")).build();
    return ProductUpsert.newBuilder().setTenant(tenant).setProduct(p)
        .setContentHash(Integer.toHexString(p.hashCode())).build();
  }

  void send(String tenant, String sku, byte[] value, String traceparent) throws Exception {
    ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>("catalog.products",
        (tenant + "/" + sku).getBytes(StandardCharsets.UTF_8), value);
    rec.headers().add(PipelineHeaders.TENANT, tenant.getBytes(StandardCharsets.UTF_8));
    if (traceparent != null) {
      rec.headers().add("traceparent", traceparent.getBytes(StandardCharsets.UTF_8));
    }
    producer.send(rec).get();
  }

  void send(ProductUpsert upsert) throws Exception {
    send(upsert.getTenant(), upsert.getProduct().getId(), upsert.toByteArray(), null);
  }

  String metrics() throws Exception {
    int port = host.components().stream().filter(c -> c instanceof OpsServer).map(c -> ((OpsServer) c).port())
        .findFirst().orElseThrow();
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Override
  public void close() {
    host.close();
    producer.close();
    store.close();
  }
}
