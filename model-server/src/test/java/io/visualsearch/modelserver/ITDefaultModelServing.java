package io.visualsearch.modelserver;

import static io.visualsearch.modelserver.ModelServerTest.floats;
import static io.visualsearch.modelserver.ModelServerTest.imageRequest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.visualsearch.config.Config;
import io.visualsearch.proto.tfserving.GetModelMetadataRequest;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictResponse;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import io.visualsearch.proto.tfserving.SignatureDefMap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.commons.io.FileUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;

/**
 * The product's model (module default-model, built separately) served by this server. Skipped
 * when it has not been exported. Also prints the throughput of dynamic batching against one
 * request per TensorFlow run, as {@code <metric>=<value>} lines (measured, never asserted).
 * Asserted: a merged run answers each request what a run of its image alone does, and requests
 * sent together to a server that waits for a full batch share one run.
 */
class ITDefaultModelServing {

  private static final Path BASE = Path.of(System.getProperty("defaultModelBase", "../default-model/target/models"));
  private static final int EMBEDDING = 768;
  private static final int CLIENTS = 16;

  /** What one server answered to concurrent single-image requests (image i at i), and how it ran them. */
  private record Answers(double imagesPerSecond, List<float[]> embeddings, BatchStats stats) {}

  @Test
  void servesTheDefaultModelsEmbeddingsAndBatchesThem() throws Exception {
    assertTrue(Files.isRegularFile(BASE.resolve("default/1/saved_model.pb")),
        "default-model's SavedModel is missing under " + BASE.toAbsolutePath() + ": build module default-model first");
    // Pinned to the shipped version: a fine-tuned version published beside it has other outputs.
    Config shipped = ModelServerSettings.defaultConfig(BASE).with(ModelServerSettings.GRPC_PORT, 0)
        .with(ModelServerSettings.REST_PORT, -1).with(ModelServerSettings.PINNED_VERSION, 1L);
    Answers batched = run(ModelServerSettings.from(shipped), true, 64);
    Answers alone = run(ModelServerSettings.from(shipped.with(ModelServerSettings.MAX_BATCH_SIZE, 1)
        .with(ModelServerSettings.BATCH_TIMEOUT, Duration.ZERO)), false, 64);
    System.out.printf("default_model_batched_images_per_s=%.1f%n", batched.imagesPerSecond());
    System.out.printf("default_model_unbatched_images_per_s=%.1f%n", alone.imagesPerSecond());
    System.out.printf("dynamic_batching_speedup=%.2f%n", batched.imagesPerSecond() / alone.imagesPerSecond());
    assertEquals(1.0, alone.stats().rowsPerRun(), "the reference answers are one image per TensorFlow run");
    assertSameEmbeddings(alone.embeddings(), batched.embeddings());

    // How the default settings merge depends on timing, so merging is asserted on a server that
    // waits for CLIENTS rows: requests sent together arrive well within its 30 s window.
    Answers merged = run(ModelServerSettings.from(shipped.with(ModelServerSettings.MAX_BATCH_SIZE, CLIENTS)
        .with(ModelServerSettings.BATCH_TIMEOUT, Duration.ofSeconds(30))
        .with(ModelServerSettings.DISPATCH_WHEN_IDLE, false)), false, CLIENTS);
    assertEquals(1, merged.stats().runs(), "requests sent together share one run: " + merged.stats());
    assertEquals(CLIENTS, merged.stats().rows(), merged.stats().toString());
    assertSameEmbeddings(alone.embeddings().subList(0, CLIENTS), merged.embeddings());
  }

  /**
   * The shipped version carries warm-up requests for the signature the services call, and loads
   * with them (one that failed would keep the version out, and acquiring it would fail). Prints the
   * first request's time after a load with them and after a load of a copy without them (measured,
   * never asserted), both after a throw-away load that pays the process's own first-use costs.
   */
  @Test
  void theShippedModelWarmsUpBeforeItServes(@TempDir Path scratch) throws Exception {
    Path shipped = BASE.resolve("default/1");
    List<String> signatures = VersionWarmup.read(shipped.resolve(VersionWarmup.RELATIVE_PATH)).stream()
        .map(r -> r.getModelSpec().getSignatureName()).toList();
    assertEquals(List.of("serving_default", "serving_default"), signatures);
    Path cold = scratch.resolve("models");
    FileUtils.copyDirectory(shipped.toFile(), cold.resolve("default/1").toFile());
    Files.delete(cold.resolve("default/1").resolve(VersionWarmup.RELATIVE_PATH));

    firstRequestMillis(cold);
    double warmMillis = firstRequestMillis(BASE);
    double coldMillis = firstRequestMillis(cold);
    System.out.printf("default_model_first_request_ms_without_warmup=%.0f%n", coldMillis);
    System.out.printf("default_model_first_request_ms_after_warmup=%.0f%n", warmMillis);
  }

  /** Loads version 1 under {@code base} in a new session and times one image on it. */
  private static double firstRequestMillis(Path base) {
    try (ModelManager models = new ModelManager("default", base, OptionalLong.of(1), Duration.ofHours(1))) {
      models.start();
      try (ServableVersion.Lease lease = models.acquire("default", OptionalLong.of(1))) {
        SignatureSpec signature = lease.version().signature("serving_default");
        HostTensor image = new TensorProtoCodec(1 << 30).decode("images",
            renamed(imageRequest(TestSavedModels.image(3, 480, 640), 480, 640)).getInputsOrThrow("images"));
        long t0 = System.nanoTime();
        lease.version().run(signature, Map.of("images", image), List.of("embedding"));
        return (System.nanoTime() - t0) / 1e6;
      }
    }
  }

  /** Each answer sliced out of a merged run is the image's own embedding, not a neighbour's. */
  private static void assertSameEmbeddings(List<float[]> expected, List<float[]> actual) {
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i), actual.get(i), 1e-5f, "image " + i);
    }
  }

  /**
   * Checks the signature and answers, then sends {@code n} single-image requests from {@link
   * #CLIENTS} threads and returns their embeddings, the rate and the batcher's work for them.
   */
  private Answers run(ModelServerSettings settings, boolean checkAnswers, int n) throws Exception {
    try (ModelServer server = new ModelServer(settings)) {
      server.start();
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      try {
        var stub = PredictionServiceGrpc.newBlockingStub(channel);
        SignatureDefMap sigs = stub.withDeadlineAfter(60, TimeUnit.SECONDS).getModelMetadata(
                GetModelMetadataRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName("default"))
                    .addMetadataField("signature_def").build())
            .getMetadataOrThrow("signature_def").unpack(SignatureDefMap.class);
        TensorInfo in = sigs.getSignatureDefOrThrow("serving_default").getInputsOrThrow("images");
        assertEquals(DataType.DT_UINT8, in.getDtype());

        if (checkAnswers) {
          // Two images of another size in one request: [2,768], unit vectors.
          byte[] two = new byte[2 * 40 * 30 * 3];
          System.arraycopy(TestSavedModels.image(1, 40, 30), 0, two, 0, two.length / 2);
          System.arraycopy(TestSavedModels.image(2, 40, 30), 0, two, two.length / 2, two.length / 2);
          PredictResponse r = stub.withDeadlineAfter(60, TimeUnit.SECONDS).predict(PredictRequest.newBuilder()
              .setModelSpec(ModelSpec.newBuilder().setName("default"))
              .putInputs("images", TensorProto.newBuilder().setDtype(DataType.DT_UINT8)
                  .setTensorShape(ModelServerTest.shape(2, 40, 30, 3)).setTensorContent(ByteString.copyFrom(two)).build())
              .build());
          float[] e = floats(r.getOutputsOrThrow("embedding"));
          assertEquals(2 * EMBEDDING, e.length);
          for (int row = 0; row < 2; row++) {
            double norm = 0;
            for (int i = 0; i < EMBEDDING; i++) {
              norm += e[row * EMBEDDING + i] * e[row * EMBEDDING + i];
            }
            assertEquals(1.0, norm, 1e-4);
          }
        }

        BatchStats before = server.batchStats();
        long t0 = System.nanoTime();
        List<Future<float[]>> answers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          byte[] px = TestSavedModels.image(i, 64, 64);
          answers.add(clients.submit(() -> floats(stub.withDeadlineAfter(120, TimeUnit.SECONDS)
              .predict(renamed(imageRequest(px, 64, 64))).getOutputsOrThrow("embedding"))));
        }
        List<float[]> embeddings = new ArrayList<>();
        for (Future<float[]> f : answers) {
          float[] embedding = f.get(180, TimeUnit.SECONDS);
          assertEquals(EMBEDDING, embedding.length);
          embeddings.add(embedding);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        BatchStats stats = server.batchStats().since(before);
        System.out.println("batch stats " + stats);
        return new Answers(n / seconds, embeddings, stats);
      } finally {
        clients.shutdownNow();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** The test helper names the input "image"; the default model calls it "images". */
  private static PredictRequest renamed(PredictRequest.Builder b) {
    TensorProto t = b.getInputsOrThrow("image");
    return b.removeInputs("image").putInputs("images", t).build();
  }
}
