package io.visualsearch.evaluation;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Sum;
import org.tensorflow.op.random.RandomUniform;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The head's ops, built the same way for training (weights are variables, dropout on) and for the
 * exported model (weights are constants), so what is served is exactly what was trained.
 */
final class HeadGraph {

  /** The head's weights as graph operands; {@code wi} and {@code bi} are null without an instance face. */
  record Weights(
      Operand<TFloat32> mean, Operand<TFloat32> invStd, Operand<TFloat32> w1, Operand<TFloat32> b1,
      Operand<TFloat32> w2, Operand<TFloat32> b2, Operand<TFloat32> wi, Operand<TFloat32> bi) {

    static Weights constants(Ops tf, ProjectionHead head) {
      boolean instance = head.instanceDim() > 0;
      return new Weights(
          tf.withName("input_mean").constant(head.mean()),
          tf.withName("input_inv_std").constant(head.invStd()),
          tf.withName("w1").constant(Shape.of(head.inputs(), head.hidden()), DataBuffers.of(head.w1(), true, false)),
          tf.withName("b1").constant(head.b1()),
          tf.withName("w2").constant(Shape.of(head.hidden(), head.dim()), DataBuffers.of(head.w2(), true, false)),
          tf.withName("b2").constant(head.b2()),
          instance ? tf.withName("wi").constant(Shape.of(head.hidden(), head.instanceDim()),
              DataBuffers.of(head.wi(), true, false)) : null,
          instance ? tf.withName("bi").constant(head.bi()) : null);
    }
  }

  /** The head's unit-length outputs; {@code instance} is null without an instance face. */
  record Faces(Operand<TFloat32> category, Operand<TFloat32> instance) {}

  private final Ops tf;
  private final Weights weights;
  private final int hidden;
  private final int gridInputs;
  private final int pixels;

  /** {@code pixels} trailing input columns are the pixel branch (0 = none), normalised apart from the grid. */
  HeadGraph(Ops tf, Weights weights, int hidden, int gridInputs, int pixels) {
    this.tf = tf;
    this.weights = weights;
    this.hidden = hidden;
    this.gridInputs = gridInputs;
    this.pixels = pixels;
  }

  /** Input rows ([grid, pixels]) to the head's faces; {@code dropout} > 0 only while training. */
  Faces project(Operand<TFloat32> input, float dropout, long seed) {
    Operand<TFloat32> normalised;
    if (pixels == 0 || gridInputs == 0) {
      normalised = l2Normalise(tf, input);
    } else {
      // Each view is scaled to unit length on its own, so neither drowns the other by its raw magnitude.
      Operand<TFloat32> grid = tf.slice(input, tf.constant(new int[] {0, 0}), tf.constant(new int[] {-1, gridInputs}));
      Operand<TFloat32> pixelPart = tf.slice(input, tf.constant(new int[] {0, gridInputs}), tf.constant(new int[] {-1, pixels}));
      normalised = tf.concat(List.of(l2Normalise(tf, grid), l2Normalise(tf, pixelPart)), tf.constant(1));
    }
    Operand<TFloat32> x = tf.math.mul(tf.math.sub(normalised, weights.mean()), weights.invStd());
    Operand<TFloat32> activations = tf.nn.relu(tf.nn.biasAdd(tf.linalg.matMul(x, weights.w1()), weights.b1()));
    if (dropout > 0) {
      // The mask's shape comes from the input, not from the hidden layer: a Shape op downstream of the
      // weights would put non-differentiable ops on the gradient path, which TensorFlow's C gradient
      // builder does not survive.
      Operand<TInt32> rows = tf.reshape(tf.gather(tf.shape(input), tf.constant(0), tf.constant(0)), tf.constant(new int[] {1}));
      Operand<TInt32> maskShape = tf.concat(List.of(rows, tf.constant(new int[] {hidden})), tf.constant(0));
      Operand<TFloat32> uniform = tf.random.randomUniform(maskShape, TFloat32.class,
          RandomUniform.seed(seed), RandomUniform.seed2(seed + 1));
      Operand<TFloat32> keep = tf.stopGradient(
          tf.dtypes.cast(tf.math.greaterEqual(uniform, tf.constant(dropout)), TFloat32.class));
      activations = tf.math.mul(activations, tf.math.mul(keep, tf.constant(1 / (1 - dropout))));
    }
    Operand<TFloat32> category = l2Normalise(tf, tf.nn.biasAdd(tf.linalg.matMul(activations, weights.w2()), weights.b2()));
    Operand<TFloat32> instance = weights.wi() == null ? null
        : l2Normalise(tf, tf.nn.biasAdd(tf.linalg.matMul(activations, weights.wi()), weights.bi()));
    return new Faces(category, instance);
  }

  /**
   * The shipped embedding: {@code [sqrt(b) * pretrained, sqrt((1 - b)(1 - s)) * category,
   * sqrt((1 - b) s) * instance]} for blend b and instance share s, parts with weight 0 left out. A
   * unit vector whose dot products are the same mix of the parts' cosines: the category face orders
   * the categories, the instance face (and the pretrained features) the items within one.
   */
  static Operand<TFloat32> compose(Ops tf, Operand<TFloat32> pretrained, Faces faces, float blend, float instanceShare) {
    List<Operand<TFloat32>> parts = new ArrayList<>();
    float[] scales = scales(blend, instanceShare);
    if (scales[0] > 0) {
      parts.add(tf.math.mul(pretrained, tf.constant(scales[0])));
    }
    if (scales[2] <= 0 && scales[0] <= 0) {
      return faces.category();
    }
    parts.add(tf.math.mul(faces.category(), tf.constant(scales[1])));
    if (scales[2] > 0) {
      parts.add(tf.math.mul(faces.instance(), tf.constant(scales[2])));
    }
    return tf.concat(parts, tf.constant(1));
  }

  /** Scales of the pretrained part, the category face and the instance face; 0 = left out. */
  /**
   * The category face as a posterior over the categories: {@code normalise(softmax(cos(face,
   * proxy_c) / t))}. Catalog images the head was fitted on sit near one-hot, so a query's cosine
   * to them is its posterior for their category: whole categories rank in the order the query
   * believes in, which is what full-ranking mAP rewards, instead of overlapping at their edges.
   */
  static Operand<TFloat32> posterior(Ops tf, Operand<TFloat32> category, Operand<TFloat32> proxies, float temperature) {
    Operand<TFloat32> cosines = tf.linalg.matMul(category, l2Normalise(tf, proxies), org.tensorflow.op.linalg.MatMul.transposeB(true));
    return l2Normalise(tf, tf.nn.softmax(tf.math.div(cosines, tf.constant(temperature))));
  }

  /** The faces as {@code head} ships them: the category face replaced by its posterior when the head says so. */
  static Faces shipped(Ops tf, ProjectionHead head, Faces faces) {
    if (head.posteriorTemperature() <= 0) {
      return faces;
    }
    Operand<TFloat32> proxies = tf.withName("proxies").constant(Shape.of(head.categories(), head.dim()),
        DataBuffers.of(head.proxies(), true, false));
    return new Faces(posterior(tf, faces.category(), proxies, head.posteriorTemperature()), faces.instance());
  }

  static float[] scales(float blend, float instanceShare) {
    return new float[] {
        blend > 0 ? (float) Math.sqrt(blend) : 0,
        (float) Math.sqrt((1 - blend) * (1 - instanceShare)),
        instanceShare > 0 ? (float) Math.sqrt((1 - blend) * instanceShare) : 0};
  }

  static Operand<TFloat32> l2Normalise(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> sumOfSquares = tf.sum(tf.math.square(x), tf.constant(1), Sum.keepDims(true));
    return tf.math.mul(x, tf.math.rsqrt(tf.math.maximum(sumOfSquares, tf.constant(1e-12f))));
  }
}
