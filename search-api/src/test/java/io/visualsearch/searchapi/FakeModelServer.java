package io.visualsearch.searchapi;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictResponse;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * A TensorFlow-Serving-compatible PredictionService whose "model" is a 4x4 colour grid (48
 * floats: mean of each channel in each cell, centred). It speaks the real wire protocol, so the
 * real model client and the whole query path run against it; it stands in for the CNN only
 * because loading TensorFlow's native runtime in every test JVM costs minutes and gigabytes.
 */
public final class FakeModelServer implements AutoCloseable {

  public static final int GRID = 4;
  public static final int DIM = GRID * GRID * 3;
  /** The one version it serves; which versions a real server serves is ITModelVersions' business. */
  public static final long VERSION = 1;

  private final AtomicReference<CountDownLatch> held = new AtomicReference<>();
  private final AtomicInteger arrivedWhileHeld = new AtomicInteger();
  /** The x-request-priority header of every Predict call, in arrival order ("" for none). */
  private final java.util.List<String> priorities = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
  private final Server server;

  public FakeModelServer() throws Exception {
    io.grpc.Metadata.Key<String> priority = io.grpc.Metadata.Key.of("x-request-priority",
        io.grpc.Metadata.ASCII_STRING_MARSHALLER);
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .maxInboundMessageSize(64 * 1024 * 1024)
        .intercept(new io.grpc.ServerInterceptor() {
          @Override
          public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call,
              io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, R> next) {
            if (call.getMethodDescriptor().getBareMethodName().equals("Predict")) {
              String p = headers.get(priority);
              priorities.add(p == null ? "" : p);
            }
            return next.startCall(call, headers);
          }
        })
        .addService(new PredictionServiceGrpc.PredictionServiceImplBase() {
          @Override
          public void predict(PredictRequest request, StreamObserver<PredictResponse> out) {
            CountDownLatch gate = held.get();
            if (gate != null) {
              arrivedWhileHeld.incrementAndGet();
              try {
                gate.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            if (request.getModelSpec().hasVersion() && request.getModelSpec().getVersion().getValue() != VERSION) {
              // As TensorFlow Serving (and our model server) answer a version they do not serve.
              out.onError(Status.NOT_FOUND.withDescription("Servable not found for request: Specific(default, "
                  + request.getModelSpec().getVersion().getValue() + ")").asRuntimeException());
              return;
            }
            out.onNext(answer(request));
            out.onCompleted();
          }
        }).build().start();
  }

  /**
   * Holds every Predict call until the returned handle is closed: a search then stays inside the
   * service as long as a test needs it there. {@link #heldCalls()} counts the calls that arrived.
   */
  public AutoCloseable hold() {
    CountDownLatch gate = new CountDownLatch(1);
    arrivedWhileHeld.set(0);
    held.set(gate);
    return () -> {
      held.set(null);
      gate.countDown();
    };
  }

  /** The x-request-priority header of every Predict call so far, in arrival order ("" for none). */
  public java.util.List<String> priorities() {
    synchronized (priorities) {
      return java.util.List.copyOf(priorities);
    }
  }

  public int heldCalls() {
    return arrivedWhileHeld.get();
  }

  public String target() {
    return "127.0.0.1:" + server.getPort();
  }

  private PredictResponse answer(PredictRequest request) {
    TensorProto images = request.getInputsOrThrow("images");
    TensorShapeProto shape = images.getTensorShape();
    int n = (int) shape.getDim(0).getSize();
    int h = (int) shape.getDim(1).getSize();
    int w = (int) shape.getDim(2).getSize();
    byte[] px = images.getTensorContent().toByteArray();
    ByteBuffer out = ByteBuffer.allocate(n * DIM * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      for (float f : embed(px, i * h * w * 3, h, w)) {
        out.putFloat(f);
      }
    }
    out.flip();
    TensorProto embedding = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(n))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(DIM)))
        .setTensorContent(com.google.protobuf.ByteString.copyFrom(out)).build();
    return PredictResponse.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("default")
            .setVersion(com.google.protobuf.Int64Value.of(VERSION)))
        .putOutputs("embedding", embedding).build();
  }

  /** The embedding of one RGB image of h × w pixels starting at {@code offset}. */
  static float[] embed(byte[] px, int offset, int h, int w) {
    double[] sum = new double[DIM];
    int[] count = new int[GRID * GRID];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int cell = (y * GRID / h) * GRID + (x * GRID / w);
        count[cell]++;
        for (int c = 0; c < 3; c++) {
          sum[cell * 3 + c] += (px[offset + (y * w + x) * 3 + c] & 0xff) - 128;
        }
      }
    }
    float[] v = new float[DIM];
    for (int i = 0; i < DIM; i++) {
      v[i] = (float) (sum[i] / Math.max(1, count[i / 3]) / 128.0);
    }
    return v;
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
  }
}
