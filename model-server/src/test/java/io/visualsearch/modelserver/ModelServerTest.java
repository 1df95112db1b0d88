package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
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
import io.visualsearch.proto.tfserving.SignatureDefMap;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.proto.error.Code;

/** The server over real gRPC on an ephemeral port, with the generated TF Serving client stubs. */
class ModelServerTest {

  @TempDir
  static Path base;

  static ModelServer server;
  static ManagedChannel channel;
  static PredictionServiceGrpc.PredictionServiceBlockingStub predict;
  static ModelServiceGrpc.ModelServiceBlockingStub models;
  static ReferenceModel reference;

  @BeforeAll
  static void start() throws Exception {
    Path v1 = TestSavedModels.exportVersion(base, "default", 1);
    reference = new ReferenceModel(v1);
    server = new ModelServer(ModelServerSettings.from(ModelServerSettings.defaultConfig(base)
        .with(ModelServerSettings.GRPC_PORT, 0).with(ModelServerSettings.REST_PORT, -1)));
    channel = startWithChannel(server);
    predict = PredictionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    models = ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    stopWithChannel(channel, server);
    if (reference != null) {
      reference.close();
    }
  }

  /** Starts {@code server} and opens a plaintext channel to its gRPC port. */
  static ManagedChannel startWithChannel(ModelServer server) throws Exception {
    server.start();
    return NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
  }

  /** Closes what {@link #startWithChannel} opened; either is null when a {@code @BeforeAll} failed first. */
  static void stopWithChannel(ManagedChannel channel, ModelServer server) throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void predictReturnsTheModelsEmbeddingForEitherTensorEncoding() {
    byte[] px = TestSavedModels.image(7, 12, 10);
    PredictResponse packed = predict.predict(imageRequest(px, 12, 10).build());
    assertEquals(1, packed.getModelSpec().getVersion().getValue());
    assertEquals("serving_default", packed.getModelSpec().getSignatureName());
    TensorProto emb = packed.getOutputsOrThrow("embedding");
    assertEquals(DataType.DT_FLOAT, emb.getDtype());
    assertEquals(List.of(1L, (long) TestSavedModels.EMBEDDING_DIM),
        emb.getTensorShape().getDimList().stream().map(TensorShapeProto.Dim::getSize).toList());
    assertClose(reference.embed(px, 12, 10), floats(emb), 1e-5f);
    // As TensorFlow Serving answers: a stock client reads outputs['embedding'].float_val.
    assertEquals(TestSavedModels.EMBEDDING_DIM, emb.getFloatValCount());
    assertTrue(emb.getTensorContent().isEmpty());

    TensorProto.Builder typed = TensorProto.newBuilder().setDtype(DataType.DT_UINT8).setTensorShape(shape(1, 12, 10, 3));
    for (byte b : px) {
      typed.addIntVal(b & 0xff);
    }
    PredictResponse viaIntVal = predict.predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("default")).putInputs("image", typed.build()).build());
    assertArrayEquals(floats(emb), floats(viaIntVal.getOutputsOrThrow("embedding")));
  }

  @Test
  void otherDtypesAndSeveralOutputsRoundTrip() {
    TensorProto ids = TensorProto.newBuilder().setDtype(DataType.DT_INT64).setTensorShape(shape(2))
        .addInt64Val(41).addInt64Val(1L << 40).build();
    TensorProto labels = TensorProto.newBuilder().setDtype(DataType.DT_STRING).setTensorShape(shape(2))
        .addStringVal(ByteString.copyFromUtf8("shoe")).addStringVal(ByteString.copyFrom(new byte[] {(byte) 0xff, 0}))
        .build();
    TensorProto counts = TensorProto.newBuilder().setDtype(DataType.DT_INT32).setTensorShape(shape(2, 2))
        .addIntVal(1).addIntVal(2).addIntVal(30).addIntVal(-4).build();
    PredictResponse r = predict.predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("default").setSignatureName("mixed"))
        .putInputs("ids", ids).putInputs("labels", labels).putInputs("counts", counts)
        .addOutputFilter("ids_plus_one").addOutputFilter("labels_out").addOutputFilter("count_sum").build());
    assertEquals(List.of(42L, (1L << 40) + 1), r.getOutputsOrThrow("ids_plus_one").getInt64ValList());
    assertEquals(labels.getStringValList(), r.getOutputsOrThrow("labels_out").getStringValList());
    assertEquals(List.of(3, 26), r.getOutputsOrThrow("count_sum").getIntValList());
    r.getOutputsMap().values().forEach(t -> assertTrue(t.getTensorContent().isEmpty(), t.getDtype().toString()));

    PredictResponse filtered = predict.predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("default").setSignatureName("mixed"))
        .putInputs("ids", ids).putInputs("labels", labels).putInputs("counts", counts)
        .addOutputFilter("count_sum").build());
    assertEquals(List.of("count_sum"), List.copyOf(filtered.getOutputsMap().keySet()));
  }

  @Test
  void aSignatureWithoutBatchDimensionRunsToo() {
    PredictResponse r = predict.predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("default").setSignatureName("scale"))
        .putInputs("factor", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).addFloatVal(3f).build())
        .putInputs("x", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(2))
            .addFloatVal(1f).addFloatVal(-2f).build())
        .build());
    assertArrayEquals(new float[] {3f, -6f}, floats(r.getOutputsOrThrow("scaled")));
  }

  @Test
  void twoOutputsNamingOneGraphTensorAreBothAnswered() {
    for (int i = 0; i < 3; i++) {
      PredictResponse r = predict.predict(PredictRequest.newBuilder()
          .setModelSpec(ModelSpec.newBuilder().setName("default").setSignatureName("aliased"))
          .putInputs("x", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(2))
              .addFloatVal(1f).addFloatVal(-2f).build())
          .build());
      assertArrayEquals(new float[] {2f, -4f}, floats(r.getOutputsOrThrow("doubled")));
      assertArrayEquals(new float[] {2f, -4f}, floats(r.getOutputsOrThrow("twice")));
    }
  }

  @Test
  void metadataDescribesEverySignature() throws Exception {
    GetModelMetadataResponse r = predict.getModelMetadata(GetModelMetadataRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("default")).addMetadataField("signature_def").build());
    assertEquals(1, r.getModelSpec().getVersion().getValue());
    SignatureDefMap map = r.getMetadataOrThrow("signature_def").unpack(SignatureDefMap.class);
    SignatureDef serving = map.getSignatureDefOrThrow("serving_default");
    TensorInfo image = serving.getInputsOrThrow("image");
    assertEquals(DataType.DT_UINT8, image.getDtype());
    assertEquals("[?,?,?,3]", ShapeText.of(image.getTensorShape()));
    TensorInfo embedding = serving.getOutputsOrThrow("embedding");
    assertEquals(DataType.DT_FLOAT, embedding.getDtype());
    assertEquals("[?,8]", ShapeText.of(embedding.getTensorShape()));
    assertTrue(map.containsSignatureDef("mixed") && map.containsSignatureDef("scale"));
  }

  @Test
  void statusReportsTheServedVersion() {
    GetModelStatusResponse r = models.getModelStatus(GetModelStatusRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("default")).build());
    ModelVersionStatus s = r.getModelVersionStatus(0);
    assertEquals(1, s.getVersion());
    assertEquals(ModelVersionStatus.State.AVAILABLE, s.getState());
    assertEquals(Code.OK, s.getStatus().getErrorCode());
  }

  @Test
  void errorsCarryTheRightStatusAndSayWhatIsWrong() {
    byte[] px = TestSavedModels.image(1, 4, 4);
    expect(Status.Code.NOT_FOUND, "'other'",
        () -> predict.predict(imageRequest(px, 4, 4).setModelSpec(ModelSpec.newBuilder().setName("other")).build()));
    expect(Status.Code.NOT_FOUND, "version 9",
        () -> predict.predict(imageRequest(px, 4, 4).setModelSpec(ModelSpec.newBuilder().setName("default")
            .setVersion(Int64Value.of(9))).build()));
    // The codes TensorFlow Serving answers, so that clients behave alike behind either server.
    expect(Status.Code.FAILED_PRECONDITION, "'nope'",
        () -> predict.predict(imageRequest(px, 4, 4).setModelSpec(ModelSpec.newBuilder().setName("default")
            .setSignatureName("nope")).build()));
    expect(Status.Code.INVALID_ARGUMENT, "'stable'",
        () -> predict.predict(imageRequest(px, 4, 4).setModelSpec(ModelSpec.newBuilder().setName("default")
            .setVersionLabel("stable")).build()));
    expect(Status.Code.INVALID_ARGUMENT, "twice",
        () -> predict.predict(imageRequest(px, 4, 4).addOutputFilter("embedding").addOutputFilter("embedding").build()));
    expect(Status.Code.INVALID_ARGUMENT, "DT_UINT8",
        () -> predict.predict(PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName("default"))
            .putInputs("image", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(1, 1, 1, 3))
                .addFloatVal(0f).build()).build()));
    expect(Status.Code.INVALID_ARGUMENT, "[?,?,?,3]",
        () -> predict.predict(PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName("default"))
            .putInputs("image", TensorProto.newBuilder().setDtype(DataType.DT_UINT8).setTensorShape(shape(4, 4, 3))
                .setTensorContent(ByteString.copyFrom(new byte[48])).build()).build()));
    expect(Status.Code.INVALID_ARGUMENT, "missing [image]",
        () -> predict.predict(PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName("default"))
            .build()));
    expect(Status.Code.INVALID_ARGUMENT, "needs 48",
        () -> predict.predict(PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName("default"))
            .putInputs("image", TensorProto.newBuilder().setDtype(DataType.DT_UINT8).setTensorShape(shape(1, 4, 4, 3))
                .setTensorContent(ByteString.copyFrom(new byte[47])).build()).build()));
    expect(Status.Code.INVALID_ARGUMENT, "output_filter",
        () -> predict.predict(imageRequest(px, 4, 4).addOutputFilter("logits").build()));
    expect(Status.Code.INVALID_ARGUMENT, "metadata_field",
        () -> predict.getModelMetadata(GetModelMetadataRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setName("default")).build()));
    expect(Status.Code.NOT_FOUND, "version 5",
        () -> models.getModelStatus(GetModelStatusRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setName("default").setVersion(Int64Value.of(5))).build()));
  }

  @Test
  void concurrentRequestsGetTheirOwnResults() throws Exception {
    int threads = 12;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<float[]>> answers = new ArrayList<>();
      List<float[]> expected = new ArrayList<>();
      for (int i = 0; i < 48; i++) {
        // Three image sizes: only same-size requests may share a batch.
        int h = 8 + 4 * (i % 3);
        byte[] px = TestSavedModels.image(1000 + i, h, h);
        expected.add(reference.embed(px, h, h));
        Callable<float[]> call = () -> floats(predict.predict(imageRequest(px, h, h).build()).getOutputsOrThrow("embedding"));
        answers.add(pool.submit(call));
      }
      for (int i = 0; i < answers.size(); i++) {
        assertClose(expected.get(i), answers.get(i).get(60, TimeUnit.SECONDS), 1e-5f);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  static PredictRequest.Builder imageRequest(byte[] px, int h, int w) {
    return PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName("default"))
        .putInputs("image", TensorProto.newBuilder().setDtype(DataType.DT_UINT8).setTensorShape(shape(1, h, w, 3))
            .setTensorContent(ByteString.copyFrom(px)).build());
  }

  static TensorShapeProto shape(long... dims) {
    return TensorProtoCodec.shapeProto(dims);
  }

  static float[] floats(TensorProto t) {
    if (t.getTensorContent().isEmpty()) {
      float[] v = new float[t.getFloatValCount()];
      for (int i = 0; i < v.length; i++) {
        v[i] = t.getFloatVal(i);
      }
      return v;
    }
    ByteBuffer b = le(t.getTensorContent());
    float[] v = new float[b.remaining() / 4];
    for (int i = 0; i < v.length; i++) {
      v[i] = b.getFloat();
    }
    return v;
  }

  static ByteBuffer le(ByteString s) {
    return s.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  static void assertClose(float[] expected, float[] actual, float tolerance) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], tolerance, "element " + i);
    }
  }

  private static void expect(Status.Code code, String fragment, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    assertTrue(e.getStatus().getDescription().contains(fragment), e.getStatus().getDescription());
  }
}
