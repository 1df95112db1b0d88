package io.visualsearch.benchmarks.model;

import io.visualsearch.defaultmodel.DefaultModelRunner;
import io.visualsearch.defaultmodel.ImageBatch;
import java.util.Arrays;
import java.util.Random;

/**
 * Raw in-process TensorFlow: the shipped SavedModel called directly (no server, no wire format),
 * the ceiling the served paths are compared with. Inputs are already at the signature's network
 * size, so the in-graph resize is an identity and what is timed is the network.
 */
final class InProcessModelBench {

  /** Batch-1 median latency and batch-8 / batch-32 throughput of one signature. */
  record Result(String signature, int size, double batch1MedianMs, double batch8ImagesPerSecond,
      double batch32ImagesPerSecond) {}

  private final DefaultModelRunner model;
  private final double secondsPerPoint;

  InProcessModelBench(DefaultModelRunner model, double secondsPerPoint) {
    this.model = model;
    this.secondsPerPoint = secondsPerPoint;
  }

  Result measure(String signature, int size) {
    ImageBatch one = images(1, size, 1);
    ImageBatch eight = images(8, size, 8);
    ImageBatch thirtyTwo = images(32, size, 32);
    model.run(signature, one);
    model.run(signature, eight);
    model.run(signature, thirtyTwo);

    double[] millis = new double[15];
    for (int i = 0; i < millis.length; i++) {
      long t = System.nanoTime();
      model.run(signature, one);
      millis[i] = (System.nanoTime() - t) / 1e6;
    }
    Arrays.sort(millis);
    return new Result(signature, size, millis[millis.length / 2], throughput(signature, eight, 3),
        throughput(signature, thirtyTwo, 2));
  }

  /** One round of batch-{@code batch} throughput in images per second, for alternating comparisons. */
  double round(String signature, int size, int batch) {
    ImageBatch images = images(batch, size, batch);
    model.run(signature, images);
    return throughput(signature, images, 2);
  }

  /** Images per second over at least {@code minRuns} runs and {@code secondsPerPoint} seconds. */
  private double throughput(String signature, ImageBatch batch, int minRuns) {
    long start = System.nanoTime();
    long deadline = start + (long) (secondsPerPoint * 1e9);
    int runs = 0;
    while (runs < minRuns || System.nanoTime() < deadline) {
      model.run(signature, batch);
      runs++;
    }
    return runs * batch.batch() / ((System.nanoTime() - start) / 1e9);
  }

  /** Deterministic noise images: content does not change a CNN's cost. */
  static ImageBatch images(int batch, int size, long seed) {
    byte[] px = new byte[batch * size * size * 3];
    new Random(seed).nextBytes(px);
    return new ImageBatch(px, batch, size, size);
  }
}
