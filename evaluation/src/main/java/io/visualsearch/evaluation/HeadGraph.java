package io.visualsearch.evaluation;

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

  /** The head's weights as graph operands. */
  record Weights(
      Operand<TFloat32> mean, Operand<TFloat32> invStd, Operand<TFloat32> w1, Operand<TFloat32> b1,
      Operand<TFloat32> w2, Operand<TFloat32> b2) {

    static Weights constants(Ops tf, ProjectionHead head) {
      return new Weights(
          tf.withName("input_mean").constant(head.mean()),
          tf.withName("input_inv_std").constant(head.invStd()),
          tf.withName("w1").constant(Shape.of(head.inputs(), head.hidden()), DataBuffers.of(head.w1(), true, false)),
          tf.withName("b1").constant(head.b1()),
          tf.withName("w2").constant(Shape.of(head.hidden(), head.dim()), DataBuffers.of(head.w2(), true, false)),
          tf.withName("b2").constant(head.b2()));
    }
  }

  private final Ops tf;
  private final Weights weights;
  private final int hidden;

  HeadGraph(Ops tf, Weights weights, int hidden) {
    this.tf = tf;
    this.weights = weights;
    this.hidden = hidden;
  }

  /** Grid features to the head's unit-length embedding; {@code dropout} > 0 only while training. */
  Operand<TFloat32> project(Operand<TFloat32> grid, float dropout, long seed) {
    Operand<TFloat32> x = tf.math.mul(tf.math.sub(l2Normalise(tf, grid), weights.mean()), weights.invStd());
    Operand<TFloat32> activations = tf.nn.relu(tf.nn.biasAdd(tf.linalg.matMul(x, weights.w1()), weights.b1()));
    if (dropout > 0) {
      // The mask's shape comes from the input, not from the hidden layer: a Shape op downstream of the
      // weights would put non-differentiable ops on the gradient path, which TensorFlow's C gradient
      // builder does not survive.
      Operand<TInt32> rows = tf.reshape(tf.gather(tf.shape(grid), tf.constant(0), tf.constant(0)), tf.constant(new int[] {1}));
      Operand<TInt32> maskShape = tf.concat(List.of(rows, tf.constant(new int[] {hidden})), tf.constant(0));
      Operand<TFloat32> uniform = tf.random.randomUniform(maskShape, TFloat32.class,
          RandomUniform.seed(seed), RandomUniform.seed2(seed + 1));
      Operand<TFloat32> keep = tf.stopGradient(
          tf.dtypes.cast(tf.math.greaterEqual(uniform, tf.constant(dropout)), TFloat32.class));
      activations = tf.math.mul(activations, tf.math.mul(keep, tf.constant(1 / (1 - dropout))));
    }
    return l2Normalise(tf, tf.nn.biasAdd(tf.linalg.matMul(activations, weights.w2()), weights.b2()));
  }

  /**
   * The shipped embedding: with blend w > 0, {@code [sqrt(w) * pretrained, sqrt(1 - w) * head]}, a
   * unit vector whose dot products are {@code w * cos(pretrained) + (1 - w) * cos(head)} — the
   * pretrained part keeps item-level detail that a category-trained head compresses away.
   */
  static Operand<TFloat32> blend(Ops tf, Operand<TFloat32> pretrained, Operand<TFloat32> head, float w) {
    if (w <= 0) {
      return head;
    }
    return tf.concat(List.of(
        tf.math.mul(pretrained, tf.constant((float) Math.sqrt(w))),
        tf.math.mul(head, tf.constant((float) Math.sqrt(1 - w)))), tf.constant(1));
  }

  static Operand<TFloat32> l2Normalise(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> sumOfSquares = tf.sum(tf.math.square(x), tf.constant(1), Sum.keepDims(true));
    return tf.math.mul(x, tf.math.rsqrt(tf.math.maximum(sumOfSquares, tf.constant(1e-12f))));
  }
}
