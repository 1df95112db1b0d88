package io.visualsearch.embeddings;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.config.Config;
import io.visualsearch.modelserver.ModelServer;
import io.visualsearch.modelserver.ModelServerSettings;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreException;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.pipeline.RetriableProcessingException;
import io.visualsearch.proto.events.Embedding;
import io.visualsearch.proto.events.ImageReady;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.PortAllocator;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.tracing.Tracing;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The embeddings-generator on the real broker and S3 server, calling the real model server that
 * serves the project's default model.
 */
@ExtendWith(StackExtension.class)
class ITEmbeddingsGenerator {

  static final String TENANT = "it-emb";

  final Map<String, List<Embedding>> embeddings = new ConcurrentHashMap<>();
  /** The traceparent of each key's first embedding: the trace of the record that produced it. */
  final Map<String, String> traceparents = new ConcurrentHashMap<>();
  final List<ConsumerRecord<byte[], byte[]>> dlq = new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * A port for a model server that the test stops and starts again on it: below the ephemeral
   * range and reserved for this JVM ({@link PortAllocator}), so no outgoing connection (the
   * generator's Kafka and S3 clients) gets it as its local port while the server is down.
   */
  static int freePort() {
    return PortAllocator.free("127.0.0.1");
  }

  @Test
  void aStoreRefusingOurCredentialsIsRetriedNotDeadLettered(EmbeddedStack stack) throws Exception {
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    env.put("ZIPKIN_ENDPOINT", "none");
    env.put("S3_SECRET_KEY", "not-the-secret");
    Config config = EmbeddingsGeneratorService.definition().parse(env);
    ObjectStore denied = ObjectStore.fromConfig(config, false);
    Tracing tracing = Tracing.create("it-denied", "a", config);
    ModelClient model = new ModelClient(config, tracing);
    try {
      assertThrows(ObjectStoreException.class, denied::start);
      EmbedImageHandler handler = new EmbedImageHandler(denied, model,
          new VectorCache(denied, model.vectorVariant(), 10), 1);
      ImageReady ready = ImageReady.newBuilder().setTenant(TENANT).setSku("denied").setImageSha256("ab".repeat(32))
          .setObjectKey("images/" + "ab".repeat(32)).build();
      ConsumerRecord<byte[], byte[]> rec = new ConsumerRecord<>("images.ready", 0, 0L,
          (TENANT + "/denied").getBytes(StandardCharsets.UTF_8), ready.toByteArray());
      // Dead-lettering would drop every image of the catalog for a cause the deployment must fix.
      RetriableProcessingException e = assertThrows(RetriableProcessingException.class, () -> handler.handle(rec, null));
      assertTrue(e.getMessage().contains("403"), e.getMessage());
      assertFalse(denied.check().ok(), "a refused credential shows in the store's check like an outage");
    } finally {
      model.close();
      tracing.close();
      denied.close();
    }
  }

  static ModelServer modelServer(int port) throws Exception {
    Config c = ModelServerSettings.definition().parse(Map.of(
        "MODEL_SERVER_BASE_PATH", System.getProperty("defaultModelBasePath"),
        "MODEL_SERVER_GRPC_PORT", Integer.toString(port), "MODEL_SERVER_REST_PORT", "-1",
        // The shipped version, whatever else a fine-tuning run has published beside it.
        "MODEL_SERVER_MODEL_VERSION", "1"));
    ModelServer server = new ModelServer(ModelServerSettings.from(c));
    server.start();
    return server;
  }

  static ServiceHost generator(EmbeddedStack stack, int modelPort) throws Exception {
    return startGenerator(stack, Map.of("MODEL_SERVER_TARGET", "127.0.0.1:" + modelPort,
        "KAFKA_GROUP_ID", "it-embeddings", "EMBEDDINGS_MODEL_POLL_INTERVAL", "500ms",
        "KAFKA_RETRY_BACKOFF_MAX", "1s", "MODEL_DEADLINE", "3s"));
  }

  /** A generator wired and started on the stack's environment with {@code settings} over it. */
  static ServiceHost startGenerator(EmbeddedStack stack, Map<String, String> settings) throws Exception {
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    env.putAll(settings);
    Config config = EmbeddingsGeneratorService.definition().include(RuntimeSettings.definition()).parse(env);
    ServiceHost host = new ServiceHost(EmbeddingsGeneratorService.NAME);
    EmbeddingsGeneratorService.wire(config, host);
    host.start();
    return host;
  }

  static byte[] png(Color c, int w, int h) throws Exception {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    var g = img.createGraphics();
    g.setColor(c);
    g.fillRect(0, 0, w, h);
    g.setColor(c.darker());
    g.fillOval(w / 4, h / 4, w / 2, h / 2);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  static String sha(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  void sendImage(EmbeddedStack stack, ObjectStore store, KafkaProducer<byte[], byte[]> producer, String sku, byte[] bytes)
      throws Exception {
    String sha = sha(bytes);
    store.put("images/" + sha, bytes, "image/png");
    ImageReady r = ImageReady.newBuilder().setTenant(TENANT).setSku(sku).setImageSha256(sha)
        .setObjectKey("images/" + sha).build();
    send(producer, sku, r.toByteArray());
  }

  void send(KafkaProducer<byte[], byte[]> producer, String sku, byte[] value) throws Exception {
    ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>("images.ready",
        (TENANT + "/" + sku).getBytes(StandardCharsets.UTF_8), value);
    rec.headers().add(PipelineHeaders.TENANT, TENANT.getBytes(StandardCharsets.UTF_8));
    producer.send(rec).get();
  }

  /** A consumer of the embeddings topic and images.ready.dlq from their start, in a group of its own. */
  static KafkaConsumer<byte[], byte[]> outputReader(EmbeddedStack stack, String groupPrefix) {
    Properties p = new Properties();
    p.put("bootstrap.servers", stack.kafkaBootstrapServers());
    p.put("group.id", groupPrefix + System.nanoTime());
    p.put("auto.offset.reset", "earliest");
    KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    c.subscribe(List.of("embeddings", "images.ready.dlq"));
    return c;
  }

  Thread collect(EmbeddedStack stack, List<AutoCloseable> toClose) {
    KafkaConsumer<byte[], byte[]> c = outputReader(stack, "it-emb-reader-");
    boolean[] stop = {false};
    Thread t = new Thread(() -> {
      while (!stop[0]) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          String key = new String(r.key(), StandardCharsets.UTF_8);
          if (!key.startsWith(TENANT + "/")) {
            continue;
          }
          if (r.topic().equals("images.ready.dlq")) {
            dlq.add(r);
          } else if (r.value() != null) {
            try {
              embeddings.computeIfAbsent(key, k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                  .add(Embedding.parseFrom(r.value()));
              traceparents.putIfAbsent(key, PipelineHeaders.get(r.headers(), "traceparent"));
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }
        }
      }
      c.close();
    });
    t.start();
    toClose.add(() -> {
      stop[0] = true;
      t.join();
    });
    return t;
  }

  /** The spans of the trace {@code traceparent} names, once Zipkin holds its span {@code name}. */
  static JsonNode zipkinTrace(EmbeddedStack stack, String traceparent, String name) {
    URI uri = URI.create(stack.zipkin().baseUrl() + "/api/v2/trace/" + traceparent.split("-")[1]);
    AtomicReference<JsonNode> trace = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return false;
      }
      JsonNode spans = new ObjectMapper().readTree(r.body());
      trace.set(spans);
      // The record's span ends last, after its model call: the trace is complete once it is in.
      for (JsonNode span : spans) {
        if (name.equals(span.path("name").asText())) {
          return true;
        }
      }
      return false;
    });
    return trace.get();
  }

  @Test
  void embedsEachProductOnceSurvivesRestartAndModelServerOutage(EmbeddedStack stack) throws Exception {
    List<AutoCloseable> cleanup = new ArrayList<>();
    int modelPort = freePort();
    ModelServer model = modelServer(modelPort);
    Config storeConfig = ObjectStoreSettings.definition().parse(stack.serviceEnvironment());
    try (ObjectStore store = ObjectStore.fromConfig(storeConfig, false);
         KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
             stack.kafkaBootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
      store.start();
      collect(stack, cleanup);
      ServiceHost gen = generator(stack, modelPort);

      Color[] colors = {Color.RED, Color.GREEN, Color.BLUE, Color.ORANGE, Color.MAGENTA};
      for (int i = 0; i < colors.length; i++) {
        sendImage(stack, store, producer, "sku-" + i, png(colors[i], 120 + i * 10, 90));
      }
      // Two products sharing one image: embedded once, emitted for both.
      sendImage(stack, store, producer, "sku-same", png(colors[0], 120, 90));
      // Poison: bytes that are no image, and a value that is no ImageReady.
      sendImage(stack, store, producer, "sku-corrupt", "GIF89a but not really".getBytes(StandardCharsets.UTF_8));
      send(producer, "sku-garbage", new byte[] {1, 2, 3, 4, 5});

      await().atMost(Duration.ofSeconds(120)).until(() -> embeddings.size() == 6 && dlq.size() == 2);
      for (List<Embedding> list : embeddings.values()) {
        Embedding e = list.get(0);
        assertEquals(768, e.getVectorCount());
        assertEquals(1, e.getModelVersion());
        assertEquals("default", e.getModelName());
        double norm = 0;
        for (float x : e.getVectorList()) {
          norm += x * x;
        }
        assertEquals(1.0, Math.sqrt(norm), 1e-3);
      }
      assertEquals(embeddings.get(TENANT + "/sku-0").get(0).getVectorList(),
          embeddings.get(TENANT + "/sku-same").get(0).getVectorList());
      // Equal vectors come from a deterministic model called twice as well: the two records' traces
      // hold one model call between them, and the other record found the vector.
      int predictCalls = 0;
      int cachedRecords = 0;
      for (String sku : List.of("sku-0", "sku-same")) {
        for (JsonNode span : zipkinTrace(stack, traceparents.get(TENANT + "/" + sku), "images.ready process")) {
          if (span.path("tags").path("rpc.method").asText().endsWith("/Predict")) {
            predictCalls++;
          }
          if (span.path("tags").path("embedding.cached").asText().equals("true")) {
            cachedRecords++;
          }
        }
      }
      assertEquals(1, predictCalls, "the image two products share is embedded once");
      assertEquals(1, cachedRecords, "one record computed the vector, the other was given it");
      Map<String, String> reasons = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> r : dlq) {
        reasons.put(new String(r.key(), StandardCharsets.UTF_8), PipelineHeaders.get(r.headers(), PipelineHeaders.DLQ_REASON));
      }
      assertEquals(Map.of(TENANT + "/sku-corrupt", "undecodable-image", TENANT + "/sku-garbage", "malformed-payload"), reasons);

      // Restart mid-stream: nothing embedded again.
      gen.close();
      gen = generator(stack, modelPort);
      sendImage(stack, store, producer, "sku-after-restart", png(Color.CYAN, 100, 100));
      await().atMost(Duration.ofSeconds(60)).until(() -> embeddings.containsKey(TENANT + "/sku-after-restart"));

      // Model server down: records wait, nothing is lost or dead-lettered.
      model.close();
      for (int i = 0; i < 3; i++) {
        sendImage(stack, store, producer, "sku-outage-" + i, png(new Color(40 * i, 200, 90), 80, 80));
      }
      Thread.sleep(3000);
      assertTrue(embeddings.keySet().stream().noneMatch(k -> k.contains("outage")));
      model = modelServer(modelPort);
      await().atMost(Duration.ofSeconds(120)).until(() ->
          embeddings.keySet().stream().filter(k -> k.contains("outage")).count() == 3);
      gen.close();

      assertEquals(2, dlq.size(), "no record may be dead-lettered because the model server was down");
      for (var e : embeddings.entrySet()) {
        assertEquals(1, e.getValue().size(), "embedded more than once: " + e.getKey());
      }

      // Reconfigured to another layer of the same model version, of the same dimension: the whole
      // catalog is embedded again with it, not only the products that change from now on.
      gen = startGenerator(stack, Map.of("MODEL_SERVER_TARGET", "127.0.0.1:" + modelPort,
          "KAFKA_GROUP_ID", "it-embeddings", "EMBEDDINGS_MODEL_POLL_INTERVAL", "500ms",
          "KAFKA_RETRY_BACKOFF_MAX", "1s", "MODEL_DEADLINE", "10s", "MODEL_SIGNATURE", "mixed7"));
      try {
        await().atMost(Duration.ofSeconds(120)).until(() -> embeddings.values().stream()
            .allMatch(list -> list.stream().anyMatch(e -> e.getSignature().equals("mixed7"))));
      } finally {
        gen.close();
      }
      for (var e : embeddings.entrySet()) {
        Embedding first = e.getValue().get(0);
        Embedding again = e.getValue().stream().filter(x -> x.getSignature().equals("mixed7")).findFirst().orElseThrow();
        assertEquals("serving_default", first.getSignature());
        assertEquals("serving_default.embedding.224px.as-is", first.getVectorVariant(), "the record names its variant");
        assertEquals("mixed7.embedding.224px.as-is", again.getVectorVariant());
        assertEquals(first.getVectorCount(), again.getVectorCount(), "same dimension: only the signature tells them apart");
        assertNotEquals(first.getVectorList(), again.getVectorList(), e.getKey());
      }
    } finally {
      model.close();
      for (AutoCloseable c : cleanup) {
        c.close();
      }
    }
  }
}
