package io.visualsearch.benchmarks.model;

import io.visualsearch.imagevalidation.NormalisedImage;
import io.visualsearch.modelclient.ImageTensors;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * The generator's per-image pixel work, a stored 224 px PNG to the bytes of its request tensor, two
 * ways in alternating rounds on one thread: {@code ImageIO.read} (BGR rows, reordered twice) against
 * {@link NormalisedImage#decode} (R, G, B rows, copied as they are).
 */
final class StoredImageDecodeBench {

  private static final int PER_ROUND = 500;
  private static final int ROUNDS = 6;
  /** Keeps the tensors' bytes observable, so no round's work can be optimised away. */
  private static volatile long sink;

  private StoredImageDecodeBench() {}

  static void print(List<byte[]> pngs) throws IOException {
    ImageTensors.Shape shape = new ImageTensors.Shape(224, 224);
    double bestBgr = Double.MAX_VALUE;
    double bestRgb = Double.MAX_VALUE;
    long seen = 0;
    for (int round = 0; round < ROUNDS; round++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < PER_ROUND; i++) {
        BufferedImage bgr = ImageIO.read(new MemoryCacheImageInputStream(
            new ByteArrayInputStream(pngs.get(i % pngs.size()))));
        seen += ImageTensors.toTensor(List.of(bgr), shape).getTensorContent().byteAt(i);
      }
      long t1 = System.nanoTime();
      for (int i = 0; i < PER_ROUND; i++) {
        BufferedImage rgb = NormalisedImage.decode(pngs.get(i % pngs.size()));
        seen += ImageTensors.toTensor(List.of(rgb), shape).getTensorContent().byteAt(i);
      }
      long t2 = System.nanoTime();
      // The first round is mostly the JIT's; the best of the rest is the estimate.
      if (round > 0) {
        bestBgr = Math.min(bestBgr, (t1 - t0) / 1e6 / PER_ROUND);
        bestRgb = Math.min(bestRgb, (t2 - t1) / 1e6 / PER_ROUND);
      }
    }
    System.out.printf(Locale.ROOT, "  stored PNG to request tensor, one thread (best of %d rounds of %d): ImageIO.read"
        + " %.3f ms an image, NormalisedImage.decode %.3f ms (%.2f of it)%n", ROUNDS - 1, PER_ROUND, bestBgr, bestRgb,
        bestRgb / bestBgr);
    sink = seen;
  }
}
