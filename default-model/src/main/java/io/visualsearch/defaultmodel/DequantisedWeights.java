package io.visualsearch.defaultmodel;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TUint8;

/**
 * Puts each weight into the graph once, as its uint8 codes plus a 256-entry float32 table, and
 * dequantises in the graph with a table lookup.
 *
 * <p>Keeping codes instead of floats makes the SavedModel a quarter of the size, and because the
 * table holds exactly the floats TensorFlow.js computes, the dequantised weights are bit-identical
 * to the original model's (an in-graph {@code code * scale + min} in float32 would round
 * differently). The lookup depends only on constants, so TensorFlow folds it when the session
 * first runs; callers share the returned operand between every tower that uses a weight.
 */
final class DequantisedWeights {

  private final Ops tf;
  private final KerasModelArtifacts artifacts;
  private final Map<String, Operand<TFloat32>> built = new HashMap<>();
  private final Map<Integer, Operand<TFloat32>> ones = new HashMap<>();

  DequantisedWeights(Ops tf, KerasModelArtifacts artifacts) {
    this.tf = tf.withSubScope("weights");
    this.artifacts = artifacts;
  }

  /** The float32 weight with this Keras name, e.g. {@code conv2d_1/kernel}. */
  Operand<TFloat32> get(String name) {
    Operand<TFloat32> weight = built.get(name);
    if (weight == null) {
      weight = dequantise(artifacts.weight(name));
      built.put(name, weight);
    }
    return weight;
  }

  /** The channel count of a weight's last dimension, read without building it. */
  int lastDimension(String name) {
    return artifacts.weight(name).lastDimension();
  }

  /** True if the model ships a weight with this name (e.g. an optional bias). */
  boolean has(String name) {
    return artifacts.weights().containsKey(name);
  }

  /** A float32 vector of ones, for BatchNormalization layers built without a learned scale. */
  Operand<TFloat32> ones(int length) {
    return ones.computeIfAbsent(length, n -> {
      float[] values = new float[n];
      Arrays.fill(values, 1f);
      return tf.withName("ones_" + n).constant(values);
    });
  }

  private Operand<TFloat32> dequantise(QuantizedWeight weight) {
    Ops scope = tf.withSubScope(weight.name().replace('/', '_'));
    Operand<TUint8> codes;
    try (TUint8 tensor = TUint8.tensorOf(Shape.of(weight.shape()), DataBuffers.of(weight.codes(), true, false))) {
      codes = scope.withName("codes").constantOf(tensor);
    }
    Operand<TFloat32> table = scope.withName("table").constant(weight.dequantisationTable());
    Operand<TInt32> indices = scope.dtypes.cast(codes, TInt32.class);
    return scope.withName("value").gather(table, indices, scope.constant(0));
  }
}
