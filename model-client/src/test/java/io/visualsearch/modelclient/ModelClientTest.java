package io.visualsearch.modelclient;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;
import io.grpc.Context;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.visualsearch.config.Config;
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
import io.visualsearch.tracing.Tracing;
import io.visualsearch.tracing.TracingSettings;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * The client's wire behaviour against an in-process PredictionService that answers, per image,
 * the mean of each colour channel (so tests can tell images and their order apart).
 */
class ModelClientTest {

  final AtomicInteger calls = new AtomicInteger();
  final List<Status> failFirst = new ArrayList<>();
  final List<PredictRequest> seen = new ArrayList<>();
  /** When set, Predict never answers: the caller's own deadline ends the call. */
  volatile boolean silent;
  /** The signatures GetModelMetadata lists; null: it lists none (says nothing of them). */
  volatile java.util.Set<String> signatures;
  /** What GetModelStatus says of both versions. */
  volatile ModelVersionStatus.State versionState = ModelVersionStatus.State.AVAILABLE;
  Server server;
  ModelClient client;
  /** Shorter than the default 5 s: the probe tests wait it out. */
  static final java.time.Duration PROBE_AFTER_FAILURE = java.time.Duration.ofSeconds(1);

  ModelClient start(String name) throws Exception {
    server = withServices(InProcessServerBuilder.forName(name).directExecutor()).build().start();
    Config config = ModelClientSettings.definition().include(TracingSettings.definition())
        .parse(Map.of("MODEL_SERVER_TARGET", name, "MODEL_IMAGE_SIZE", "32", "ZIPKIN_ENDPOINT", "none",
            "MODEL_PROBE_AFTER_FAILURE", PROBE_AFTER_FAILURE.toMillis() + "ms"));
    client = new ModelClient(config, Tracing.create("test", "t", config), InProcessChannelBuilder::forName);
    client.start();
    return client;
  }

  /** The fake PredictionService and ModelService on {@code builder}. */
  private <B extends io.grpc.ServerBuilder<B>> B withServices(B builder) {
    return builder.addService(new PredictionServiceGrpc.PredictionServiceImplBase() {
      @Override
      public void predict(PredictRequest request, StreamObserver<PredictResponse> out) {
        int n = calls.getAndIncrement();
        if (silent) {
          return;
        }
        if (n < failFirst.size()) {
          out.onError(failFirst.get(n).asRuntimeException());
          return;
        }
        seen.add(request);
        TensorProto in = request.getInputsOrThrow("images");
        int batch = (int) in.getTensorShape().getDim(0).getSize();
        int pixels = (int) (in.getTensorShape().getDim(1).getSize() * in.getTensorShape().getDim(2).getSize());
        byte[] data = in.getTensorContent().toByteArray();
        ByteBuffer outBuf = ByteBuffer.allocate(batch * 3 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < batch; b++) {
          for (int c = 0; c < 3; c++) {
            double sum = 0;
            for (int p = 0; p < pixels; p++) {
              sum += data[(b * pixels + p) * 3 + c] & 0xff;
            }
            outBuf.putFloat((float) (sum / pixels));
          }
        }
        TensorProto emb = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
            .setTensorShape(TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dim.newBuilder().setSize(batch))
                .addDim(TensorShapeProto.Dim.newBuilder().setSize(3)))
            .setTensorContent(ByteString.copyFrom(outBuf.array())).build();
        out.onNext(PredictResponse.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setName("default").setVersion(Int64Value.of(7)))
            .putOutputs("embedding", emb).build());
        out.onCompleted();
      }

      @Override
      public void getModelMetadata(GetModelMetadataRequest request, StreamObserver<GetModelMetadataResponse> out) {
        // Version 7 answers requests that name none; 8, loaded too, only those that name it (a rollback).
        GetModelMetadataResponse.Builder r = GetModelMetadataResponse.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setName("default").setVersion(Int64Value.of(7)));
        java.util.Set<String> listed = signatures;
        if (listed != null) {
          io.visualsearch.proto.tfserving.SignatureDefMap.Builder map =
              io.visualsearch.proto.tfserving.SignatureDefMap.newBuilder();
          listed.forEach(name -> map.putSignatureDef(name, org.tensorflow.proto.SignatureDef.getDefaultInstance()));
          r.putMetadata("signature_def", com.google.protobuf.Any.pack(map.build()));
        }
        out.onNext(r.build());
        out.onCompleted();
      }
    }).addService(new ModelServiceGrpc.ModelServiceImplBase() {
      @Override
      public void getModelStatus(GetModelStatusRequest request, StreamObserver<GetModelStatusResponse> out) {
        out.onNext(GetModelStatusResponse.newBuilder()
            .addModelVersionStatus(ModelVersionStatus.newBuilder().setVersion(7).setState(versionState))
            .addModelVersionStatus(ModelVersionStatus.newBuilder().setVersion(8).setState(versionState))
            .build());
        out.onCompleted();
      }
    });
  }

  /** The same fake over TCP, the client on its own Netty channel, images up to {@code imageSize} sent as they are. */
  ModelClient startOverTcp(int imageSize) throws Exception {
    server = withServices(io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder
        .forAddress(new java.net.InetSocketAddress("127.0.0.1", 0))).build().start();
    Config config = ModelClientSettings.definition().include(TracingSettings.definition())
        .parse(Map.of("MODEL_SERVER_TARGET", "127.0.0.1:" + server.getPort(), "MODEL_IMAGE_SIZE",
            Integer.toString(imageSize), "ZIPKIN_ENDPOINT", "none"));
    client = new ModelClient(config, Tracing.create("test", "t", config));
    client.start();
    return client;
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.shutdownNow();
    }
  }

  @Test
  void aPollOnNoOnesBehalfIsNoTraceButInsideATraceItIsPartOfIt() throws Exception {
    server = withServices(InProcessServerBuilder.forName("untraced-polls").directExecutor()).build().start();
    Config config = ModelClientSettings.definition().include(TracingSettings.definition())
        .parse(Map.of("MODEL_SERVER_TARGET", "untraced-polls", "MODEL_IMAGE_SIZE", "32"));
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    try (Tracing tracing = Tracing.withExporter("test", spans)) {
      client = new ModelClient(config, tracing, InProcessChannelBuilder::forName);
      client.start();
      assertEquals(java.util.OptionalLong.of(7), client.servedVersion());
      tracing.flush();
      assertEquals(List.of(), spans.getFinishedSpanItems(), "the generator polls every few seconds: no trace each");

      Span batch = tracing.tracer().spanBuilder("embed batch").startSpan();
      try (Scope ignored = batch.makeCurrent()) {
        client.servedVersion();
      } finally {
        batch.end();
      }
      tracing.flush();
      assertTrue(spans.getFinishedSpanItems().stream().anyMatch(
          s -> s.getParentSpanId().equals(batch.getSpanContext().getSpanId())), "inside a trace: " + spans);
    }
  }

  static BufferedImage solid(Color c, int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    var g = img.createGraphics();
    g.setColor(c);
    g.fillRect(0, 0, w, h);
    g.dispose();
    return img;
  }

  @Test
  void everySettingThatChangesTheVectorsChangesTheVariantTheyAreStoredUnder() {
    Map<String, String> base = Map.of("MODEL_SERVER_TARGET", "unused:1", "ZIPKIN_ENDPOINT", "none");
    java.util.function.Function<Map<String, String>, String> variant = extra -> {
      Map<String, String> env = new java.util.HashMap<>(base);
      env.putAll(extra);
      Config c = ModelClientSettings.definition().include(TracingSettings.definition()).parse(env);
      return new ModelClient(c, Tracing.create("test", "t", c)).vectorVariant();
    };
    String defaults = variant.apply(Map.of());
    assertEquals("serving_default.embedding.224px.as-is", defaults);
    java.util.Set<String> all = new java.util.HashSet<>(java.util.List.of(defaults,
        variant.apply(Map.of("MODEL_SIGNATURE", "mixed7")),
        variant.apply(Map.of("MODEL_OUTPUT", "logits")),
        variant.apply(Map.of("MODEL_IMAGE_SIZE", "299")),
        variant.apply(Map.of("MODEL_SEND_SMALL_IMAGES_AS_IS", "false"))));
    assertEquals(5, all.size(), all.toString());
  }

  @Test
  void sendsOneUint8BatchOfResizedImagesAndKeepsOrder() throws Exception {
    start("order");
    Embeddings e = client.embed(List.of(solid(Color.RED, 50, 20), solid(new Color(0, 128, 255), 7, 300)));
    assertEquals(7, e.modelVersion());
    assertEquals("default", e.modelName());
    assertArrayEquals(new float[] {255, 0, 0}, e.vectors()[0], 0.01f);
    assertArrayEquals(new float[] {0, 128, 255}, e.vectors()[1], 0.01f);
    TensorProto sent = seen.get(0).getInputsOrThrow("images");
    assertEquals(DataType.DT_UINT8, sent.getDtype());
    assertEquals(List.of(2L, 32L, 32L, 3L), sent.getTensorShape().getDimList().stream().map(TensorShapeProto.Dim::getSize).toList());
    assertEquals("serving_default", seen.get(0).getModelSpec().getSignatureName());
  }

  @Test
  void aCallNamingAVariantIsEmbeddedAsItSaysNotAsConfigured() throws Exception {
    start("variant");
    VectorVariant other = new VectorVariant("mixed7", "embedding", 16, false);
    Embeddings e = client.embed(List.of(solid(Color.RED, 20, 10)), 7, other);
    assertArrayEquals(new float[] {255, 0, 0}, e.vectors()[0], 0.01f);
    assertEquals("mixed7", e.signature());
    PredictRequest sent = seen.get(0);
    assertEquals("mixed7", sent.getModelSpec().getSignatureName());
    assertEquals(7, sent.getModelSpec().getVersion().getValue());
    assertEquals(List.of("embedding"), sent.getOutputFilterList());
    assertEquals(List.of(1L, 16L, 16L, 3L), sent.getInputsOrThrow("images").getTensorShape().getDimList().stream()
        .map(TensorShapeProto.Dim::getSize).toList(), "resized to its size although small: it says resized");
    client.embed(List.of(solid(Color.RED, 20, 10)), 7);
    assertEquals(List.of(1L, 10L, 20L, 3L), seen.get(1).getInputsOrThrow("images").getTensorShape().getDimList()
        .stream().map(TensorShapeProto.Dim::getSize).toList(), "the configured variant sends it as it is");
    assertEquals("serving_default", seen.get(1).getModelSpec().getSignatureName());
  }

  @Test
  void aCallNamingAModelAsksForThatModelNotTheConfiguredOne() throws Exception {
    // An index built from another model than MODEL_NAME (a deployment moving to it) is searched
    // with vectors of its own model.
    start("named-model");
    client.embed(List.of(solid(Color.RED, 20, 10)), "resnet50", 3, client.variant());
    assertEquals("resnet50", seen.get(0).getModelSpec().getName());
    assertEquals(3, seen.get(0).getModelSpec().getVersion().getValue());
    client.embed(List.of(solid(Color.RED, 20, 10)), 3, client.variant());
    assertEquals("default", seen.get(1).getModelSpec().getName());
  }

  @Test
  void smallImagesGoAtTheirOwnSizeOneCallPerShapeAndTheLaterCallsArePinnedToTheFirstAnswer() throws Exception {
    start("shapes");
    Embeddings e = client.embed(List.of(solid(Color.RED, 28, 28), solid(Color.GREEN, 20, 10),
        solid(Color.BLUE, 28, 28), solid(Color.WHITE, 64, 8)));
    assertArrayEquals(new float[] {255, 0, 0}, e.vectors()[0], 0.01f);
    assertArrayEquals(new float[] {0, 255, 0}, e.vectors()[1], 0.01f);
    assertArrayEquals(new float[] {0, 0, 255}, e.vectors()[2], 0.01f);
    assertArrayEquals(new float[] {255, 255, 255}, e.vectors()[3], 0.01f);
    assertEquals(List.of(List.of(2L, 28L, 28L, 3L), List.of(1L, 10L, 20L, 3L), List.of(1L, 32L, 32L, 3L)),
        seen.stream().map(r -> r.getInputsOrThrow("images").getTensorShape().getDimList().stream()
            .map(TensorShapeProto.Dim::getSize).toList()).toList());
    assertEquals(false, seen.get(0).getModelSpec().hasVersion(), "the first call asks for the latest version");
    assertEquals(7, seen.get(1).getModelSpec().getVersion().getValue());
    assertEquals(7, seen.get(2).getModelSpec().getVersion().getValue());
    assertEquals(7, e.modelVersion());
  }

  @Test
  void retriesUnavailableOnly() throws Exception {
    failFirst.add(Status.UNAVAILABLE.withDescription("restarting"));
    failFirst.add(Status.UNAVAILABLE.withDescription("restarting"));
    start("retry");
    client.embed(List.of(solid(Color.GREEN, 4, 4)));
    assertEquals(3, calls.get(), "two UNAVAILABLE answers are retried by the channel");
  }

  @Test
  void aRequestAboveGrpcsDefaultRetryBufferIsRetriedToo() throws Exception {
    // 600 x 600 x 3 bytes: above the 1 MiB a gRPC channel buffers per call for retries by default,
    // beyond which it gives up retrying after the first attempt.
    failFirst.add(Status.UNAVAILABLE.withDescription("restarting"));
    failFirst.add(Status.UNAVAILABLE.withDescription("restarting"));
    startOverTcp(600);
    Embeddings e = client.embed(List.of(solid(Color.GREEN, 600, 600)));
    assertArrayEquals(new float[] {0, 255, 0}, e.vectors()[0], 0.01f);
    assertEquals(3, calls.get(), "two UNAVAILABLE answers are retried by the channel");
  }

  @Test
  void invalidArgumentIsARejectionAndIsNotRetried() throws Exception {
    failFirst.add(Status.INVALID_ARGUMENT.withDescription("input must be uint8"));
    start("reject");
    ModelRejectedException e = assertThrows(ModelRejectedException.class, () -> client.embed(List.of(solid(Color.BLUE, 4, 4))));
    assertEquals(1, calls.get());
    assertEquals("model server refused the input: input must be uint8", e.getMessage());
  }

  @Test
  void aSignatureTheModelLacksIsUnavailableNotARejectionOfTheInput() throws Exception {
    failFirst.add(Status.FAILED_PRECONDITION.withDescription("Serving signature key \"embed\" not found."));
    start("signature");
    ModelUnavailableException e = assertThrows(ModelUnavailableException.class,
        () -> client.embed(List.of(solid(Color.BLUE, 4, 4))));
    assertTrue(e.getMessage().contains("not found"), e.getMessage());
    assertEquals(1, calls.get(), "not retried by the channel either");
    assertEquals(false, client.check().ok(), "shows until the configuration is fixed");
  }

  @Test
  void aSignatureTheModelLacksKeepsTheClientUnreadyPastItsProbe() throws Exception {
    failFirst.add(Status.FAILED_PRECONDITION.withDescription("Serving signature key \"serving_default\" not found."));
    signatures = java.util.Set.of("mixed7");
    start("signature-probe");
    assertThrows(ModelUnavailableException.class, () -> client.embed(List.of(solid(Color.BLUE, 4, 4))));
    // Past the probe's wait: a version is AVAILABLE, but still without the signature.
    Thread.sleep(PROBE_AFTER_FAILURE.toMillis() + 500);
    CheckResult probed = client.check();
    assertEquals(false, probed.ok(), "a version AVAILABLE alone does not make a missing signature appear");
    assertTrue(probed.detail().contains("no signature 'serving_default'"), probed.detail());
    // The model is fixed: the next probe clears it.
    signatures = java.util.Set.of("mixed7", "serving_default");
    Thread.sleep(PROBE_AFTER_FAILURE.toMillis() + 500);
    client.check();
    assertTrue(client.check().ok(), client.check().detail());
  }

  @Test
  void aPinnedVersionTheServerNoLongerServesIsReportedAsSuchAndLeavesTheClientHealthy() throws Exception {
    for (int i = 0; i < 3; i++) {
      failFirst.add(Status.NOT_FOUND.withDescription("Servable not found for request: Specific(default, 3)"));
    }
    start("retired");
    for (int i = 0; i < 3; i++) {
      ModelVersionNotServedException e = assertThrows(ModelVersionNotServedException.class,
          () -> client.embed(List.of(solid(Color.BLUE, 4, 4)), 3));
      assertEquals(3, e.version());
    }
    assertEquals(3, calls.get(), "not retried by the channel");
    assertEquals(true, client.check().ok(), "the server answered; only that version is gone");
  }

  /** A search whose shopper's gRPC deadline passed: the model server did nothing wrong. */
  @Test
  void aCallerThatStopsWaitingLeavesTheClientHealthy() throws Exception {
    silent = true;
    start("silent");
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    try (Context.CancellableContext request = Context.current().withDeadlineAfter(100, TimeUnit.MILLISECONDS, timer)) {
      assertThrows(ModelUnavailableException.class,
          () -> request.call(() -> client.embed(List.of(solid(Color.BLUE, 4, 4)))));
    } finally {
      timer.shutdownNow();
    }
    assertEquals(true, client.check().ok(), client.check().detail());
  }

  @Test
  void notFoundForTheLatestVersionIsAServerStillLoadingItsModelAndShowsInCheck() throws Exception {
    failFirst.add(Status.NOT_FOUND.withDescription("Servable not found for request: Latest(default)"));
    start("loading");
    ModelUnavailableException e = assertThrows(ModelUnavailableException.class,
        () -> client.embed(List.of(solid(Color.BLUE, 4, 4))));
    assertEquals(ModelUnavailableException.class, e.getClass());
    assertEquals(false, client.check().ok());
  }

  @Test
  void persistentOutageIsReportedAsUnavailableAndShowsInCheck() throws Exception {
    for (int i = 0; i < 10; i++) {
      failFirst.add(Status.UNAVAILABLE.withDescription("down"));
    }
    start("down");
    assertThrows(ModelUnavailableException.class, () -> client.embed(List.of(solid(Color.BLUE, 4, 4))));
    assertEquals(4, calls.get(), "maxAttempts in the retry policy bounds the attempts");
    assertEquals(false, client.check().ok());
  }

  @Test
  void aLastingOutageStopsBeingRetriedSoAnOverloadedServerIsNotSentEachCallFourTimes() throws Exception {
    for (int i = 0; i < 40; i++) {
      failFirst.add(Status.UNAVAILABLE.withDescription("queue full"));
    }
    start("throttled");
    for (int i = 0; i < 5; i++) {
      assertThrows(ModelUnavailableException.class, () -> client.embed(List.of(solid(Color.BLUE, 4, 4))));
    }
    int before = calls.get();
    assertTrue(before < 4 * 5, before + " attempts for 5 calls: retries were not throttled");
    assertThrows(ModelUnavailableException.class, () -> client.embed(List.of(solid(Color.BLUE, 4, 4))));
    assertEquals(before + 1, calls.get(), "once throttled, a call goes out once");
  }

  /** A client whose first embedding failed (every attempt UNAVAILABLE) and whose check() says so. */
  private void failedWhileTheServerRestarted(String name) throws Exception {
    for (int i = 0; i < 4; i++) {
      failFirst.add(Status.UNAVAILABLE.withDescription("restarting"));
    }
    start(name);
    assertThrows(ModelUnavailableException.class, () -> client.embed(List.of(solid(Color.BLUE, 4, 4))));
    assertEquals(false, client.check().ok(), "right after the failure");
  }

  @Test
  void aServerThatAnswersAgainClearsTheFailureFromCheck() throws Exception {
    failedWhileTheServerRestarted("recovering");
    // A status probe, not only a successful embedding, proves the server is back: a service held
    // not-ready until it embeds something would never be sent anything to embed.
    assertEquals(java.util.OptionalLong.of(7), client.servedVersion(),
        "the version answering requests that name none, not the newest loaded");
    assertEquals(true, client.check().ok());
  }

  @Test
  void aFailureShownByCheckClearsOnceTheServerAnswersAProbeWithoutAnyOtherCall() throws Exception {
    failedWhileTheServerRestarted("probed");
    // search-api is sent nothing while unready: check() itself must find the server back.
    await().atMost(java.time.Duration.ofSeconds(30))
        .until(() -> client.check().ok());
  }

  @Test
  void aServerStillLoadingItsModelKeepsTheFailureInCheckUntilAVersionIsAvailable() throws Exception {
    versionState = ModelVersionStatus.State.LOADING;
    failedWhileTheServerRestarted("loading-after-restart");
    // The probe gets an answer, but one that serves nothing: still not ready, and saying why.
    await().atMost(java.time.Duration.ofSeconds(30))
        .until(() -> client.check().detail().contains("no version of model 'default' is AVAILABLE: 7 LOADING"));
    assertEquals(false, client.check().ok());
    versionState = ModelVersionStatus.State.AVAILABLE;
    await().atMost(java.time.Duration.ofSeconds(30)).until(() -> client.check().ok());
  }
}
