package io.visualsearch.defaultmodel;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Command line: {@code BenchDefaultModel <savedModelVersionDir> [signature...]}. Prints, per
 * signature, the median batch-1 latency and the batch-8 throughput as {@code <metric>=<value>}
 * lines (the last lines of the output, for scripts). Timing lives here, never in tests.
 */
public final class BenchDefaultModel {

  private static final int WARMUP = 5;
  private static final int BATCH1_RUNS = 40;
  private static final int BATCH8_RUNS = 10;

  private BenchDefaultModel() {}

  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: BenchDefaultModel <savedModelVersionDir> [signature...]");
      System.exit(2);
    }
    String[] signatures = args.length > 1
        ? Arrays.copyOfRange(args, 1, args.length)
        : new String[] {DefaultModelSignatures.SERVING_DEFAULT, DefaultModelSignatures.MIXED7,
            DefaultModelSignatures.MIXED10, DefaultModelSignatures.CLASSIFY};
    long loadStart = System.nanoTime();
    try (DefaultModelRunner runner = DefaultModelRunner.load(Path.of(args[0]))) {
      double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
      StringBuilder results = new StringBuilder(String.format("load_seconds=%.2f%n", loadSeconds));
      for (String signature : signatures) {
        // Camera-sized input: the resize inside the graph is part of what a caller pays.
        ImageBatch one = SyntheticImages.batch(1, 480, 640);
        ImageBatch eight = SyntheticImages.batch(8, 480, 640);
        for (int i = 0; i < WARMUP; i++) {
          runner.run(signature, one);
          runner.run(signature, eight);
        }
        double[] millis = new double[BATCH1_RUNS];
        for (int i = 0; i < BATCH1_RUNS; i++) {
          long start = System.nanoTime();
          runner.run(signature, one);
          millis[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(millis);
        long start = System.nanoTime();
        for (int i = 0; i < BATCH8_RUNS; i++) {
          runner.run(signature, eight);
        }
        double imagesPerSecond = BATCH8_RUNS * 8 / ((System.nanoTime() - start) / 1e9);
        results.append(String.format("%s_batch1_median_ms=%.1f%n", signature, millis[BATCH1_RUNS / 2]));
        results.append(String.format("%s_batch8_images_per_s=%.1f%n", signature, imagesPerSecond));
      }
      System.out.print(results);
    }
  }
}
