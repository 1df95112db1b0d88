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
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

/**
 * Small real SavedModels built with TensorFlow Java ops, shaped like the product's embedding
 * model: uint8 images [N,H,W,3] of any size → cast → resize 16x16 → 3x3 conv (fixed weights, 8
 * channels) → mean pool → L2 normalise → {@code embedding} float [N,8].
 *
 * <p>Version {@code v} uses the weights times {@code (-1)^(v+1)}, so version 2's embedding is
 * exactly the negation of version 1's: a response shows which version computed it.
 */
final class TestSavedModels {

  static final int EMBEDDING_DIM = 8;

  private TestSavedModels() {}

  /** Exports a version to {@code <base>/<name>/<version>} via a temporary directory and rename. */
  static Path exportVersion(Path base, String name, long version) throws IOException {
    Path modelDir = Files.createDirectories(base.resolve(name));
    Path tmp = Files.createTempDirectory(modelDir.getParent(), "export-");
    export(tmp, version % 2 == 1 ? 1f : -1f);
    Path target = modelDir.resolve(Long.toString(version));
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    return target;
  }

  static void export(Path dir, float weightSign) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);

      Placeholder<TUint8> image = tf.withName("image").placeholder(TUint8.class,
          Placeholder.shape(Shape.of(-1, -1, -1, 3)));
      Operand<TFloat32> pixels = tf.math.div(tf.dtypes.cast(image, TFloat32.class), tf.constant(255f));
      Operand<TFloat32> resized = tf.image.resizeBilinear(pixels, tf.constant(new int[] {16, 16}));
      Operand<TFloat32> filters = tf.constant(Shape.of(3, 3, 3, EMBEDDING_DIM), DataBuffers.of(weights(weightSign)));
      Operand<TFloat32> conv = tf.nn.conv2d(resized, filters, List.of(1L, 1L, 1L, 1L), "SAME");
      Operand<TFloat32> pooled = tf.math.mean(conv, tf.constant(new int[] {1, 2}));
      Operand<TFloat32> sumSq = tf.sum(tf.math.square(pooled), tf.constant(new int[] {1}), Sum.keepDims(true));
      Operand<TFloat32> embedding = tf.math.mul(pooled, tf.math.rsqrt(tf.math.maximum(sumSq, tf.constant(1e-12f))));
      Signature serving = Signature.builder().key("serving_default").methodName("tensorflow/serving/predict")
          .input("image", image).output("embedding", embedding).build();

      // Other dtypes, several inputs and outputs.
      Placeholder<TInt64> ids = tf.withName("ids").placeholder(TInt64.class, Placeholder.shape(Shape.of(-1)));
      Placeholder<TString> labels = tf.withName("labels").placeholder(TString.class, Placeholder.shape(Shape.of(-1)));
      Placeholder<TInt32> counts = tf.withName("counts").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, 2)));
      Signature mixed = Signature.builder().key("mixed").methodName("tensorflow/serving/predict")
          .input("ids", ids).input("labels", labels).input("counts", counts)
          .output("ids_plus_one", tf.math.add(ids, tf.constant(1L)))
          .output("labels_out", tf.identity(labels))
          .output("count_sum", tf.sum(counts, tf.constant(1)))
          .build();

      // A scalar input: no free batch dimension, so never merged.
      Placeholder<TFloat32> factor = tf.withName("factor").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      Signature scale = Signature.builder().key("scale").methodName("tensorflow/serving/predict")
          .input("factor", factor).input("x", x).output("scaled", tf.math.mul(x, factor)).build();

      // Two aliases of one graph tensor, as a signature may name it.
      Operand<TFloat32> doubled = tf.math.mul(x, tf.constant(2f));
      Signature aliased = Signature.builder().key("aliased").methodName("tensorflow/serving/predict")
          .input("x", x).output("doubled", doubled).output("twice", doubled).build();

      SavedModelBundle.exporter(dir.toString())
          .withFunctions(SessionFunction.create(serving, s), SessionFunction.create(mixed, s),
              SessionFunction.create(scale, s), SessionFunction.create(aliased, s))
          .export();
    }
  }

  private static float[] weights(float sign) {
    Random r = new Random(42);
    float[] w = new float[3 * 3 * 3 * EMBEDDING_DIM];
    for (int i = 0; i < w.length; i++) {
      w[i] = sign * (float) r.nextGaussian();
    }
    return w;
  }

  /** A deterministic pseudo-random image, row-major [1,h,w,3]. */
  static byte[] image(long seed, int h, int w) {
    byte[] px = new byte[h * w * 3];
    new Random(seed).nextBytes(px);
    return px;
  }
}
