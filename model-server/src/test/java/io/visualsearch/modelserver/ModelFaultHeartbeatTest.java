package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.HashTable;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * Whose fault a FAILED_PRECONDITION was, as the heartbeat books it: a model's run that TensorFlow
 * failed is an error, a caller's unknown signature activity, over gRPC and REST alike.
 */
class ModelFaultHeartbeatTest {

  @TempDir
  Path base;

  ModelServer server;
  ManagedChannel channel;
  PredictionServiceGrpc.PredictionServiceBlockingStub grpc;
  final HttpClient http = HttpClient.newHttpClient();
  final Activity activity = new Activity(new PrometheusRegistry());

  /** A model whose signature {@code lookup} reads a table nothing initialises, served over gRPC and REST. */
  @BeforeEach
  void start() throws Exception {
    exportUninitialisedTable(base);
    server = new ModelServer(ModelServerSettings.from(ModelServerSettings.defaultConfig(base)
        .with(ModelServerSettings.GRPC_PORT, 0).with(ModelServerSettings.REST_PORT, 0)));
    ModelServerHeartbeat.countPredicts(server, activity);
    channel = ModelServerTest.startWithChannel(server);
    grpc = PredictionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws InterruptedException {
    ModelServerTest.stopWithChannel(channel, server);
  }

  /**
   * A model whose every run failed FAILED_PRECONDITION (a table it could not initialise) showed
   * busy and healthy on the health page: the code is also a caller's unknown signature's.
   */
  @Test
  void aRunThatFailsFailedPreconditionInTensorFlowIsAnErrorOverGrpcAndRest() throws Exception {
    assertFailedPreconditionBookedAs(true, "lookup", "version 1 failed");
  }

  @Test
  void aCallersUnknownSignatureIsStillActivityOverGrpcAndRest() throws Exception {
    assertFailedPreconditionBookedAs(false, "nope", "'nope' not found");
  }

  /**
   * Calls {@code signature} over gRPC, then over REST (answered 400 saying {@code restSays}), each
   * FAILED_PRECONDITION, and checks each call was booked as an error ({@code asError}) or as activity.
   */
  private void assertFailedPreconditionBookedAs(boolean asError, String signature, String restSays) throws Exception {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> grpc.predict(lookup(signature)));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e.getMessage());
    awaitBooked(1);
    assertEquals(asError ? 1 : 0, activity.errors(), "over gRPC");
    assertEquals(asError ? 0 : 1, activity.handled(), "over gRPC");

    HttpResponse<String> r = postLookup(signature);
    assertEquals(400, r.statusCode(), r.body());
    assertTrue(r.body().contains(restSays), r.body());
    awaitBooked(2);
    assertEquals(asError ? 2 : 0, activity.errors(), "over REST");
    assertEquals(asError ? 0 : 2, activity.handled(), "over REST");
  }

  private static PredictRequest lookup(String signature) {
    return PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("default").setSignatureName(signature))
        .putInputs("ids", TensorProto.newBuilder().setDtype(DataType.DT_INT64)
            .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(2)))
            .addInt64Val(1).addInt64Val(2).build())
        .build();
  }

  private HttpResponse<String> postLookup(String signature) throws Exception {
    String body = "{\"signature_name\": \"" + signature + "\", \"inputs\": {\"ids\": [1, 2]}}";
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.restPort()
            + "/v1/models/default:predict")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** REST books a call after its reply is sent, so the client may read the reply first. */
  private void awaitBooked(long calls) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (activity.errors() + activity.handled() < calls && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }

  /**
   * {@code <base>/default/1} with signature {@code lookup}: int64 {@code ids} looked up in a hash
   * table no initialiser fills, so TensorFlow fails every run with FAILED_PRECONDITION.
   */
  private static void exportUninitialisedTable(Path base) throws IOException {
    Path tmp = Files.createTempDirectory(base, "export-");
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TInt64> ids = tf.withName("ids").placeholder(TInt64.class, Placeholder.shape(Shape.of(-1)));
      HashTable table = tf.hashTable(TInt64.class, TFloat32.class);
      Signature lookup = Signature.builder().key("lookup").methodName("tensorflow/serving/predict")
          .input("ids", ids).output("scores", tf.lookupTableFind(table, ids, tf.constant(0f))).build();
      SavedModelBundle.exporter(tmp.toString()).withFunction(SessionFunction.create(lookup, s)).export();
    }
    Files.move(tmp, Files.createDirectories(base.resolve("default")).resolve("1"), StandardCopyOption.ATOMIC_MOVE);
  }
}
