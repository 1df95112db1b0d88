package io.visualsearch.embeddings;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Int64Value;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.visualsearch.config.Config;
import io.visualsearch.modelserver.ModelServer;
import io.visualsearch.modelserver.ModelServerSettings;
import io.visualsearch.modelserver.TinyEmbeddingModels;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.proto.events.Embedding;
import io.visualsearch.proto.events.ImageReady;
import io.visualsearch.proto.tfserving.GetModelMetadataRequest;
import io.visualsearch.proto.tfserving.GetModelMetadataResponse;
import io.visualsearch.proto.tfserving.GetModelStatusRequest;
import io.visualsearch.proto.tfserving.GetModelStatusResponse;
import io.visualsearch.proto.tfserving.ModelServiceGrpc;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.ModelVersionStatus;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictResponse;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.awt.Color;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.commons.io.FileUtils;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Model versions coming and going under a running generator, on the real broker, S3 server and
 * model server serving small real SavedModels (each test its own model name, so its consumer
 * groups, vector cache and followed-version record are its own).
 */
@ExtendWith(StackExtension.class)
class ITModelVersionChanges {

  static final int PRODUCTS = 6;

  /** What the embeddings topic and images.ready.dlq hold for one tenant, in topic order. */
  static final class TenantTopics implements AutoCloseable {
    final String tenant;
    final Map<String, List<Embedding>> embeddings = new ConcurrentHashMap<>();
    final List<String> deadLettered = new CopyOnWriteArrayList<>();
    private volatile boolean stop;
    private final Thread reader;

    TenantTopics(EmbeddedStack stack, String tenant) {
      this.tenant = tenant;
      KafkaConsumer<byte[], byte[]> c = ITEmbeddingsGenerator.outputReader(stack, "it-versions-reader-");
      reader = new Thread(() -> {
        try (c) {
          while (!stop) {
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
              String key = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
              if (!key.startsWith(tenant + "/")) {
                continue;
              }
              if (r.topic().equals("images.ready.dlq")) {
                deadLettered.add(key + ": " + PipelineHeaders.get(r.headers(), PipelineHeaders.DLQ_REASON));
              } else if (r.value() != null) {
                try {
                  embeddings.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(Embedding.parseFrom(r.value()));
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }
            }
          }
        }
      });
      reader.start();
    }

    /** Whether the last embedding of each of {@code skus} is of {@code version}. */
    boolean lastOf(List<String> skus, long version) {
      for (String sku : skus) {
        List<Embedding> list = embeddings.get(tenant + "/" + sku);
        // Empty for a moment: the reader makes a sku's list before it adds the first embedding.
        if (list == null || list.isEmpty() || list.get(list.size() - 1).getModelVersion() != version) {
          return false;
        }
      }
      return true;
    }

    @Override
    public void close() throws InterruptedException {
      stop = true;
      reader.join();
    }
  }

  /**
   * On a port of its own rather than 0: {@link VersionedModel#restartServer} starts it again on the
   * same port, and a port the kernel chose could meanwhile be an outgoing connection's local port.
   */
  static ModelServer modelServer(Path base, String model) throws Exception {
    return modelServer(base, model, ITEmbeddingsGenerator.freePort(), Map.of());
  }

  static ModelServer modelServer(Path base, String model, int grpcPort, Map<String, String> extra) throws Exception {
    Map<String, String> env = new HashMap<>(Map.of(
        "MODEL_SERVER_BASE_PATH", base.toString(), "MODEL_SERVER_MODEL_NAME", model,
        "MODEL_SERVER_GRPC_PORT", Integer.toString(grpcPort), "MODEL_SERVER_REST_PORT", "-1",
        "MODEL_SERVER_POLL_INTERVAL", "200ms"));
    env.putAll(extra);
    Config c = ModelServerSettings.definition().parse(env);
    ModelServer server = new ModelServer(ModelServerSettings.from(c));
    server.start();
    return server;
  }

  static ServiceHost generator(EmbeddedStack stack, int modelPort, String model) throws Exception {
    return ITEmbeddingsGenerator.startGenerator(stack, Map.of("MODEL_SERVER_TARGET", "127.0.0.1:" + modelPort,
        "MODEL_NAME", model, "KAFKA_GROUP_ID", "it-versions", "EMBEDDINGS_MODEL_POLL_INTERVAL", "300ms",
        "KAFKA_RETRY_BACKOFF_MAX", "1s", "MODEL_DEADLINE", "5s"));
  }

  static CheckResult followerCheck(ServiceHost generator) {
    for (Component c : generator.components()) {
      if (c instanceof ModelVersionFollower f) {
        return f.check();
      }
    }
    throw new IllegalStateException("no model-version-follower");
  }

  static List<String> sendCatalog(EmbeddedStack stack, String tenant, String prefix, int n, int hueOffset)
      throws Exception {
    Config storeConfig = ObjectStoreSettings.definition().parse(stack.serviceEnvironment());
    List<String> skus = new java.util.ArrayList<>();
    try (ObjectStore store = ObjectStore.fromConfig(storeConfig, false);
         KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
             stack.kafkaBootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
      store.start();
      for (int i = 0; i < n; i++) {
        String sku = prefix + i;
        byte[] png = ITEmbeddingsGenerator.png(Color.getHSBColor((hueOffset + i) / 17f, 0.8f, 0.9f), 64 + i, 48);
        String sha = ITEmbeddingsGenerator.sha(png);
        store.put("images/" + sha, png, "image/png");
        ImageReady r = ImageReady.newBuilder().setTenant(tenant).setSku(sku).setImageSha256(sha)
            .setObjectKey("images/" + sha).build();
        ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>("images.ready",
            (tenant + "/" + sku).getBytes(StandardCharsets.UTF_8), r.toByteArray());
        rec.headers().add(PipelineHeaders.TENANT, tenant.getBytes(StandardCharsets.UTF_8));
        producer.send(rec).get();
        skus.add(sku);
      }
    }
    return skus;
  }

  /**
   * One test's model: its SavedModels under a temporary base path (version 1 published), the model
   * server serving them, what the topics hold for its tenant ("it-" + the model's name), and the
   * generator once started. Closing stops the topics' reader, the generator and the model server,
   * then deletes the base path.
   */
  static final class VersionedModel implements AutoCloseable {
    final String model;
    final String tenant;
    final Path base;
    ModelServer server;
    final TenantTopics topics;
    ServiceHost generator;

    VersionedModel(EmbeddedStack stack, String model) throws Exception {
      this.model = model;
      this.tenant = "it-" + model;
      this.base = Files.createTempDirectory("it-" + model + "-models-");
      ModelServer started = null;
      try {
        publish(1, TinyEmbeddingModels.Contract.GENERATOR);
        started = modelServer(base, model);
        this.server = started;
        this.topics = new TenantTopics(stack, tenant);
      } catch (Exception | Error e) {
        if (started != null) {
          started.close();
        }
        FileUtils.deleteQuietly(base.toFile());
        throw e;
      }
    }

    void publish(long version, TinyEmbeddingModels.Contract contract) throws Exception {
      TinyEmbeddingModels.publish(base, model, version, contract);
    }

    /** Restarts the model server on its port with {@code extra} settings, as a redeployment would. */
    void restartServer(Map<String, String> extra) throws Exception {
      int port = server.grpcPort();
      server.close();
      server = modelServer(base, model, port, extra);
    }

    void withdraw(long version) throws Exception {
      FileUtils.deleteDirectory(base.resolve(model).resolve(Long.toString(version)).toFile());
    }

    /** Starts a generator on this model (the last one started is closed with the rest). */
    ServiceHost startGenerator(EmbeddedStack stack) throws Exception {
      generator = generator(stack, server.grpcPort(), model);
      return generator;
    }

    /**
     * Starts a generator, sends a catalog (hues from {@code hueOffset}) and waits until every
     * product is embedded with v1, then publishes v2 and waits until every product is embedded
     * with it: the state a rollback starts from. Returns the catalog's skus.
     */
    List<String> embeddedWithV1ThenV2(EmbeddedStack stack, int hueOffset) throws Exception {
      startGenerator(stack);
      List<String> catalog = sendCatalog(stack, tenant, "sku-", PRODUCTS, hueOffset);
      await().atMost(Duration.ofSeconds(120)).until(() -> topics.lastOf(catalog, 1));
      publish(2, TinyEmbeddingModels.Contract.GENERATOR);
      await().atMost(Duration.ofSeconds(120)).until(() -> topics.lastOf(catalog, 2));
      return catalog;
    }

    /** Closes the running generator, as a deployment taking it down would. */
    void stopGenerator() {
      generator.close();
      generator = null;
    }

    @Override
    public void close() throws Exception {
      try {
        topics.close();
      } finally {
        if (generator != null) {
          generator.close();
        }
        server.close();
        FileUtils.deleteQuietly(base.toFile());
      }
    }
  }

  /**
   * Between the generator and the model server: relays every call, but holds the catalog's images
   * pinned to {@code heldVersion} (not the probe's {@code MODEL_IMAGE_SIZE} square) until released,
   * each for a little longer than the generator's 5 s deadline, so a replay stays where it is.
   */
  static final class HoldingProxy implements AutoCloseable {
    final long heldVersion;
    final CountDownLatch released = new CountDownLatch(1);
    final AtomicInteger held = new AtomicInteger();
    private final ManagedChannel upstream;
    private final Server server;

    HoldingProxy(int upstreamPort, long heldVersion) throws Exception {
      this.heldVersion = heldVersion;
      upstream = ManagedChannelBuilder.forAddress("127.0.0.1", upstreamPort).usePlaintext().build();
      PredictionServiceGrpc.PredictionServiceBlockingStub predictions = PredictionServiceGrpc.newBlockingStub(upstream);
      ModelServiceGrpc.ModelServiceBlockingStub models = ModelServiceGrpc.newBlockingStub(upstream);
      server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
          .addService(new PredictionServiceGrpc.PredictionServiceImplBase() {
            @Override
            public void predict(PredictRequest request, StreamObserver<PredictResponse> response) {
              relay(() -> {
                if (catalogImageOfHeldVersion(request)) {
                  held.incrementAndGet();
                  if (!released.await(6, TimeUnit.SECONDS)) {
                    throw Status.UNAVAILABLE.withDescription("held by the test").asRuntimeException();
                  }
                }
                return predictions.predict(request);
              }, response);
            }

            @Override
            public void getModelMetadata(GetModelMetadataRequest request,
                StreamObserver<GetModelMetadataResponse> response) {
              relay(() -> predictions.getModelMetadata(request), response);
            }
          })
          .addService(new ModelServiceGrpc.ModelServiceImplBase() {
            @Override
            public void getModelStatus(GetModelStatusRequest request, StreamObserver<GetModelStatusResponse> response) {
              relay(() -> models.getModelStatus(request), response);
            }
          })
          .build().start();
    }

    int port() {
      return server.getPort();
    }

    private boolean catalogImageOfHeldVersion(PredictRequest request) {
      if (!request.getModelSpec().hasVersion() || request.getModelSpec().getVersion().getValue() != heldVersion) {
        return false;
      }
      return request.getInputsMap().values().stream().anyMatch(t -> t.getTensorShape().getDim(1).getSize() != 224);
    }

    private static <T> void relay(Callable<T> call, StreamObserver<T> response) {
      T answer;
      try {
        answer = call.call();
      } catch (StatusRuntimeException e) {
        response.onError(e);
        return;
      } catch (Exception e) {
        response.onError(Status.INTERNAL.withCause(e).withDescription(e.toString()).asRuntimeException());
        return;
      }
      response.onNext(answer);
      response.onCompleted();
    }

    @Override
    public void close() throws InterruptedException {
      released.countDown();
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      upstream.shutdownNow();
    }
  }

  /**
   * Upgrade: while v2 re-embeds the catalog from the beginning of images.ready (held here, as a
   * large catalog keeps it busy for hours), a product added meanwhile is embedded with v1, still
   * served, instead of waiting behind the whole catalog; once the replay has passed it, every
   * product's last embedding is v2's, the new one's too, and v1's loop is gone.
   */
  @Test
  void duringAnUpgradeTheCatalogsChangesAreEmbeddedWithThePreviousVersionUntilTheReplayCatchesUp(
      EmbeddedStack stack) throws Exception {
    try (VersionedModel m = new VersionedModel(stack, "upgrade-live");
         HoldingProxy proxy = new HoldingProxy(m.server.grpcPort(), 2)) {
      m.generator = generator(stack, proxy.port(), m.model);
      ServiceHost gen = m.generator;
      List<String> catalog = sendCatalog(stack, m.tenant, "sku-", PRODUCTS, 2);
      await().atMost(Duration.ofSeconds(120)).until(() -> m.topics.lastOf(catalog, 1));

      m.publish(2, TinyEmbeddingModels.Contract.GENERATOR);
      await().atMost(Duration.ofSeconds(60)).until(() -> followerCheck(gen).detail()
          .contains("embedding with model version 2"));
      await().atMost(Duration.ofSeconds(60)).until(() -> proxy.held.get() > 0);

      List<String> added = sendCatalog(stack, m.tenant, "new-", 1, 13);
      await().atMost(Duration.ofSeconds(60)).until(() -> m.topics.lastOf(added, 1));
      assertFalse(m.topics.lastOf(catalog.subList(0, 1), 2), "the replay is still held");
      assertTrue(followerCheck(gen).ok(), followerCheck(gen).detail());

      proxy.released.countDown();
      List<String> all = new java.util.ArrayList<>(catalog);
      all.addAll(added);
      await().atMost(Duration.ofSeconds(120)).until(() -> m.topics.lastOf(all, 2));
      await().atMost(Duration.ofSeconds(60)).until(() -> !followerCheck(gen).detail().contains("version 1 embeds"));
      assertTrue(m.topics.lastOf(all, 2), "v2's vector of the added product came after v1's");
      assertTrue(followerCheck(gen).ok(), followerCheck(gen).detail());
      assertEquals(List.of(), m.topics.deadLettered);
    }
  }

  /**
   * Rollback: v1 serving, v2 published and the catalog re-embedded with it, then v2 withdrawn. The
   * compacted embeddings topic must end with a v1 vector for every product, not only for those
   * changed since the rollout (the index-builder picks the newest version present).
   */
  @Test
  void aWithdrawnVersionLeavesEveryProductOnThePreviousVersion(EmbeddedStack stack) throws Exception {
    try (VersionedModel m = new VersionedModel(stack, "rollback")) {
      ServiceHost gen = m.startGenerator(stack);
      List<String> catalog = sendCatalog(stack, m.tenant, "sku-", PRODUCTS, 0);
      await().atMost(Duration.ofSeconds(120)).until(() -> m.topics.lastOf(catalog, 1));
      Map<String, List<Float>> v1Vectors = new HashMap<>();
      for (String sku : catalog) {
        v1Vectors.put(sku, m.topics.embeddings.get(m.tenant + "/" + sku).get(0).getVectorList());
      }

      m.publish(2, TinyEmbeddingModels.Contract.GENERATOR);
      await().atMost(Duration.ofSeconds(120)).until(() -> m.topics.lastOf(catalog, 2));
      // One product changes while v2 serves: the one the old group would have re-embedded anyway.
      List<String> changed = sendCatalog(stack, m.tenant, "sku-", 1, 9);
      await().atMost(Duration.ofSeconds(60))
          .until(() -> m.topics.embeddings.get(m.tenant + "/" + changed.get(0)).size() == 3);

      m.withdraw(2);
      await().atMost(Duration.ofSeconds(120)).until(() -> m.topics.lastOf(catalog, 1));
      for (String sku : catalog.subList(1, catalog.size())) {
        List<Embedding> list = m.topics.embeddings.get(m.tenant + "/" + sku);
        assertEquals(v1Vectors.get(sku), list.get(list.size() - 1).getVectorList(), sku + " is back on v1's vector");
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> followerCheck(gen).ok());
      assertTrue(followerCheck(gen).detail().contains("model version 1"), followerCheck(gen).detail());
      assertEquals(List.of(), m.topics.deadLettered);
    }
  }

  /**
   * Rollback without an outage: v2 stays on disk, served to the requests that name it (the queries
   * of indexes built with it), while {@code MODEL_SERVER_DEFAULT_VERSION=1} makes v1 the version the
   * generator follows, so every product is embedded with v1 again.
   */
  @Test
  void aChosenDefaultVersionRollsTheCatalogBackWhileTheNewerOneStillAnswers(EmbeddedStack stack) throws Exception {
    try (VersionedModel m = new VersionedModel(stack, "rollback-default")) {
      List<String> catalog = m.embeddedWithV1ThenV2(stack, 5);
      ServiceHost gen = m.generator;

      m.restartServer(Map.of("MODEL_SERVER_DEFAULT_VERSION", "1"));
      await().atMost(Duration.ofSeconds(120)).until(() -> m.topics.lastOf(catalog, 1));
      await().atMost(Duration.ofSeconds(30)).until(() -> followerCheck(gen).ok());
      assertTrue(followerCheck(gen).detail().contains("model version 1"), followerCheck(gen).detail());
      ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", m.server.grpcPort()).usePlaintext().build();
      try {
        GetModelStatusResponse status = ModelServiceGrpc.newBlockingStub(ch).getModelStatus(GetModelStatusRequest
            .newBuilder().setModelSpec(ModelSpec.newBuilder().setName(m.model).setVersion(Int64Value.of(2))).build());
        assertEquals(ModelVersionStatus.State.AVAILABLE, status.getModelVersionStatus(0).getState(),
            "v2 still answers the queries of the indexes built with it");
      } finally {
        ch.shutdownNow();
      }
      assertEquals(List.of(), m.topics.deadLettered);
    }
  }

  /**
   * The same rollback while the generator is down: it comes back knowing no version, and must
   * still re-embed every product with v1.
   */
  @Test
  void aRollbackWhileTheGeneratorIsDownStillReEmbedsEveryProduct(EmbeddedStack stack) throws Exception {
    try (VersionedModel m = new VersionedModel(stack, "rollback-restart")) {
      // v1's group commits the whole catalog first: that is the offset a restart must not resume.
      List<String> catalog = m.embeddedWithV1ThenV2(stack, 3);
      m.stopGenerator();

      m.withdraw(2);
      ServiceHost restarted = m.startGenerator(stack);
      await().atMost(Duration.ofSeconds(120)).until(() -> m.topics.lastOf(catalog, 1));
      await().atMost(Duration.ofSeconds(30)).until(() -> followerCheck(restarted).ok());
      assertEquals(List.of(), m.topics.deadLettered);
    }
  }

  /**
   * A new version the generator cannot call (output renamed, or no serving_default signature):
   * nothing is dead-lettered, the catalog keeps being embedded with v1, and the check names v2.
   */
  @ParameterizedTest
  @EnumSource(value = TinyEmbeddingModels.Contract.class, names = {"OUTPUT_RENAMED", "SIGNATURE_MISSING"})
  void aVersionRefusingTheGeneratorsContractIsNotSwitchedTo(TinyEmbeddingModels.Contract contract,
      EmbeddedStack stack) throws Exception {
    try (VersionedModel m = new VersionedModel(stack, "refused-" + contract.name().toLowerCase().replace('_', '-'))) {
      ServiceHost running = m.startGenerator(stack);
      List<String> catalog = sendCatalog(stack, m.tenant, "sku-", PRODUCTS, 5);
      await().atMost(Duration.ofSeconds(120)).until(() -> m.topics.lastOf(catalog, 1));

      m.publish(2, contract);
      await().atMost(Duration.ofSeconds(60)).until(() -> followerCheck(running).detail()
          .contains("version 2 refuses the generator's signature/input/output"));

      List<String> added = sendCatalog(stack, m.tenant, "new-", 3, 11);
      await().atMost(Duration.ofSeconds(60)).until(() -> m.topics.lastOf(added, 1));
      assertEquals(List.of(), m.topics.deadLettered, "nothing may be dead-lettered for the version's contract");
      assertTrue(m.topics.lastOf(catalog, 1));
      assertFalse(followerCheck(running).ok());
      assertTrue(followerCheck(running).detail().contains("version 2"), followerCheck(running).detail());
    }
  }
}
