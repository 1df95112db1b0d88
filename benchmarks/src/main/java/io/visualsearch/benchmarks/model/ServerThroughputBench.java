package io.visualsearch.benchmarks.model;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Closed-loop load on a running model server: {@code clients} threads each send one single-image
 * Predict at a time over one shared channel, as many embeddings-generator workers do. Throughput
 * is the completed calls in a window after a warm-up; requests are built once, so the client side
 * costs almost nothing and the number describes the server.
 */
final class ServerThroughputBench {

  /** Calls completed per second in the window, failed calls, and the mean latency. */
  record Result(double imagesPerSecond, long failures, double meanLatencyMs) {}

  private final String target;
  private final int clients;

  ServerThroughputBench(String target, int clients) {
    this.target = target;
    this.clients = clients;
  }

  Result run(String signature, String input, int size, double warmupSeconds, double seconds)
      throws InterruptedException {
    PredictRequest request = request(signature, input, size);
    ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext()
        .maxInboundMessageSize(64 << 20).build();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicLong latencyNanos = new AtomicLong();
    CountDownLatch finished = new CountDownLatch(clients);
    List<Thread> threads = new ArrayList<>();
    try {
      for (int i = 0; i < clients; i++) {
        Thread t = new Thread(() -> {
          try {
            while (!stop.get()) {
              long t0 = System.nanoTime();
              try {
                PredictionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                    .predict(request);
                latencyNanos.addAndGet(System.nanoTime() - t0);
                done.incrementAndGet();
              } catch (StatusRuntimeException e) {
                failed.incrementAndGet();
              }
            }
          } finally {
            finished.countDown();
          }
        }, "bench-client-" + i);
        threads.add(t);
        t.start();
      }
      Thread.sleep((long) (warmupSeconds * 1000));
      long n0 = done.get();
      long l0 = latencyNanos.get();
      long f0 = failed.get();
      long t0 = System.nanoTime();
      Thread.sleep((long) (seconds * 1000));
      long n1 = done.get();
      long l1 = latencyNanos.get();
      double elapsed = (System.nanoTime() - t0) / 1e9;
      stop.set(true);
      finished.await(120, TimeUnit.SECONDS);
      long calls = n1 - n0;
      return new Result(calls / elapsed, failed.get() - f0, calls == 0 ? 0 : (l1 - l0) / 1e6 / calls);
    } finally {
      stop.set(true);
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  static PredictRequest request(String signature, String input, int size) {
    byte[] pixels = InProcessModelBench.images(1, size, 7).pixels();
    TensorProto tensor = TensorProto.newBuilder().setDtype(DataType.DT_UINT8)
        .setTensorShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(1))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(size))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(size))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(3)))
        .setTensorContent(ByteString.copyFrom(pixels)).build();
    return PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("default").setSignatureName(signature))
        .putInputs(input, tensor).build();
  }
}
