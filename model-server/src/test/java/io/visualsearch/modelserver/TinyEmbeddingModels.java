package io.visualsearch.modelserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Sum;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TUint8;

/**
 * Small real SavedModels the model server loads in a moment, shaped like the product's model:
 * uint8 images [N,H,W,3] → resize 16x16 → 3x3 conv (fixed weights, 8 channels) → mean → L2
 * normalise → float [N,8]. Even versions negate the weights, so a vector shows which version
 * made it. A {@link Contract} other than {@code GENERATOR} is a version the generator cannot call.
 * In model-server's test-jar for every module whose tests run the real model server.
 */
public final class TinyEmbeddingModels {

  public enum Contract {
    /** Signature serving_default, input images, output embedding: what the generator calls. */
    GENERATOR,
    /** The output is named features: the generator's output filter is refused (INVALID_ARGUMENT). */
    OUTPUT_RENAMED,
    /** No serving_default signature (FAILED_PRECONDITION). */
    SIGNATURE_MISSING
  }

  private TinyEmbeddingModels() {}

  /** Publishes {@code <base>/<name>/<version>} the way the model server expects: written aside, then renamed. */
  public static Path publish(Path base, String name, long version, Contract contract) throws IOException {
    Path modelDir = Files.createDirectories(base.resolve(name));
    Path tmp = Files.createTempDirectory(base, "export-");
    export(tmp, version % 2 == 1 ? 1f : -1f, contract);
    Path target = modelDir.resolve(Long.toString(version));
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    return target;
  }

  private static void export(Path dir, float sign, Contract contract) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TUint8> images = tf.withName("images").placeholder(TUint8.class,
          Placeholder.shape(Shape.of(-1, -1, -1, 3)));
      Operand<TFloat32> pixels = tf.math.div(tf.dtypes.cast(images, TFloat32.class), tf.constant(255f));
      Operand<TFloat32> resized = tf.image.resizeBilinear(pixels, tf.constant(new int[] {16, 16}));
      Operand<TFloat32> filters = tf.constant(Shape.of(3, 3, 3, 8), DataBuffers.of(weights(sign)));
      Operand<TFloat32> conv = tf.nn.conv2d(resized, filters, List.of(1L, 1L, 1L, 1L), "SAME");
      Operand<TFloat32> pooled = tf.math.mean(conv, tf.constant(new int[] {1, 2}));
      Operand<TFloat32> sumSq = tf.sum(tf.math.square(pooled), tf.constant(new int[] {1}), Sum.keepDims(true));
      Operand<TFloat32> embedding = tf.math.mul(pooled, tf.math.rsqrt(tf.math.maximum(sumSq, tf.constant(1e-12f))));
      Signature signature = Signature.builder()
          .key(contract == Contract.SIGNATURE_MISSING ? "image_features" : "serving_default")
          .methodName("tensorflow/serving/predict")
          .input("images", images)
          .output(contract == Contract.OUTPUT_RENAMED ? "features" : "embedding", embedding)
          .build();
      SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(signature, s)).export();
    }
  }

  private static float[] weights(float sign) {
    Random r = new Random(42);
    float[] w = new float[3 * 3 * 3 * 8];
    for (int i = 0; i < w.length; i++) {
      w[i] = sign * (float) r.nextGaussian();
    }
    return w;
  }
}
