package io.visualsearch.defaultmodel;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.nn.Conv2d;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.types.TFloat32;

/**
 * Translates the layers of a Keras topology into TensorFlow ops, driven by each layer's config:
 * Conv2D, BatchNormalization (inference form), Activation, Max/AveragePooling2D, Concatenate,
 * Flatten, Dense and Dropout (identity at inference) — the layer set of Keras's InceptionV3. Any
 * other layer or option is rejected with the layer's name rather than translated approximately.
 *
 * <p>One builder can lay down several "towers" (the same layers on different inputs, e.g. 224 px
 * embeddings and the 299 px classifier) in one graph; they share the weight constants.
 */
final class KerasGraphBuilder {

  private final Ops tf;
  private final KerasTopology topology;
  private final DequantisedWeights weights;

  KerasGraphBuilder(Ops tf, KerasTopology topology, DequantisedWeights weights) {
    this.tf = tf;
    this.topology = topology;
    this.weights = weights;
  }

  /**
   * Applies the model to {@code input} (NHWC float32, already preprocessed) and returns the
   * outputs of the {@code targets} layers; only the layers they depend on are built.
   *
   * @param tower sub-scope for this tower's ops, so several towers can share a graph
   */
  Map<String, Operand<TFloat32>> build(String tower, Operand<TFloat32> input, Collection<String> targets) {
    Ops scope = tf.withSubScope(tower);
    Map<String, Operand<TFloat32>> outputs = new HashMap<>();
    for (KerasLayer layer : topology.layersFor(targets)) {
      List<Operand<TFloat32>> inbound = new ArrayList<>();
      for (String source : layer.inbound()) {
        inbound.add(outputs.get(source));
      }
      Operand<TFloat32> output =
          layer.name().equals(topology.inputLayer()) ? input : apply(scope.withSubScope(layer.name()), layer, inbound);
      outputs.put(layer.name(), output);
    }
    Map<String, Operand<TFloat32>> result = new HashMap<>();
    for (String target : targets) {
      result.put(target, outputs.get(target));
    }
    return result;
  }

  private Operand<TFloat32> apply(Ops ops, KerasLayer layer, List<Operand<TFloat32>> inbound) {
    checkChannelsLast(layer);
    return switch (layer.className()) {
      case "Conv2D" -> conv2d(ops, layer, single(layer, inbound));
      case "BatchNormalization" -> batchNormalization(ops, layer, single(layer, inbound));
      case "Activation" -> activation(ops, layer, layer.string("activation"), single(layer, inbound));
      case "MaxPooling2D" -> maxPooling(ops, layer, single(layer, inbound));
      case "AveragePooling2D" -> averagePooling(ops, layer, single(layer, inbound));
      case "Concatenate" -> ops.concat(inbound, ops.constant(layer.config().path("axis").asInt(-1)));
      case "Flatten" -> flatten(ops, layer, single(layer, inbound));
      case "Dense" -> dense(ops, layer, single(layer, inbound));
      case "Dropout" -> single(layer, inbound); // inference: dropout is the identity
      default -> throw layer.unsupported("layer class not supported");
    };
  }

  private Operand<TFloat32> conv2d(Ops ops, KerasLayer layer, Operand<TFloat32> x) {
    int[] strides = layer.ints("strides");
    int[] dilation = layer.config().has("dilation_rate") ? layer.ints("dilation_rate") : new int[] {1, 1};
    if (layer.config().path("groups").asInt(1) != 1) {
      throw layer.unsupported("grouped convolution");
    }
    Operand<TFloat32> y =
        ops.nn.conv2d(
            x,
            weights.get(layer.name() + "/kernel"),
            List.of(1L, (long) strides[0], (long) strides[1], 1L),
            padding(layer),
            Conv2d.dilations(List.of(1L, (long) dilation[0], (long) dilation[1], 1L)),
            Conv2d.dataFormat("NHWC"));
    if (layer.bool("use_bias", true)) {
      y = ops.nn.biasAdd(y, weights.get(layer.name() + "/bias"));
    }
    return activation(ops, layer, layer.config().path("activation").asText("linear"), y);
  }

  /**
   * Keras's inference-time batch normalisation, {@code gamma * (x - mean) / sqrt(var + eps) + beta},
   * as one FusedBatchNormV3 op: TensorFlow's grappler recognises Conv2D + FusedBatchNorm (+ Relu)
   * and folds it into a single fused convolution, so the graph stays faithful to Keras and fast.
   */
  private Operand<TFloat32> batchNormalization(Ops ops, KerasLayer layer, Operand<TFloat32> x) {
    int axis = layer.config().path("axis").isArray()
        ? layer.config().path("axis").get(0).asInt()
        : layer.config().path("axis").asInt(-1);
    if (axis != -1 && axis != 3) {
      throw layer.unsupported("normalisation over axis " + axis);
    }
    String name = layer.name();
    int channels = weights.lastDimension(name + "/moving_mean");
    Operand<TFloat32> gamma = layer.bool("scale", true) ? weights.get(name + "/gamma") : weights.ones(channels);
    Operand<TFloat32> beta = layer.bool("center", true) ? weights.get(name + "/beta") : zeros(ops, channels);
    float epsilon = (float) layer.config().path("epsilon").asDouble(0.001);
    return ops.nn
        .fusedBatchNorm(
            x,
            gamma,
            beta,
            weights.get(name + "/moving_mean"),
            weights.get(name + "/moving_variance"),
            FusedBatchNorm.epsilon(epsilon),
            FusedBatchNorm.isTraining(false),
            FusedBatchNorm.dataFormat("NHWC"))
        .y();
  }

  private Operand<TFloat32> activation(Ops ops, KerasLayer layer, String activation, Operand<TFloat32> x) {
    return switch (activation) {
      case "linear" -> x;
      case "relu" -> ops.nn.relu(x);
      case "softmax" -> ops.nn.softmax(x);
      case "sigmoid" -> ops.math.sigmoid(x);
      case "tanh" -> ops.math.tanh(x);
      default -> throw layer.unsupported("activation '" + activation + "'");
    };
  }

  private Operand<TFloat32> maxPooling(Ops ops, KerasLayer layer, Operand<TFloat32> x) {
    int[] pool = layer.ints("pool_size");
    int[] strides = strides(layer, pool);
    return ops.nn.maxPool(
        x,
        ops.constant(new int[] {1, pool[0], pool[1], 1}),
        ops.constant(new int[] {1, strides[0], strides[1], 1}),
        padding(layer));
  }

  /** TensorFlow's AvgPool, like Keras and TensorFlow.js, leaves 'same' padding out of the mean. */
  private Operand<TFloat32> averagePooling(Ops ops, KerasLayer layer, Operand<TFloat32> x) {
    int[] pool = layer.ints("pool_size");
    int[] strides = strides(layer, pool);
    return ops.nn.avgPool(
        x,
        List.of(1L, (long) pool[0], (long) pool[1], 1L),
        List.of(1L, (long) strides[0], (long) strides[1], 1L),
        padding(layer));
  }

  /** Flatten needs the static per-example size, which the fixed-size classifier input provides. */
  private Operand<TFloat32> flatten(Ops ops, KerasLayer layer, Operand<TFloat32> x) {
    Shape shape = x.shape();
    if (shape.isUnknown() || shape.numDimensions() < 2) {
      throw layer.unsupported("input rank unknown");
    }
    long features = 1;
    for (int i = 1; i < shape.numDimensions(); i++) {
      if (shape.get(i) < 0) {
        throw layer.unsupported("input dimension " + i + " is not static; resize the input first");
      }
      features *= shape.get(i);
    }
    return ops.reshape(x, ops.constant(new long[] {-1, features}));
  }

  private Operand<TFloat32> dense(Ops ops, KerasLayer layer, Operand<TFloat32> x) {
    Operand<TFloat32> y = ops.linalg.matMul(x, weights.get(layer.name() + "/kernel"));
    if (layer.bool("use_bias", true)) {
      y = ops.nn.biasAdd(y, weights.get(layer.name() + "/bias"));
    }
    return activation(ops, layer, layer.config().path("activation").asText("linear"), y);
  }

  private Operand<TFloat32> zeros(Ops ops, int channels) {
    return ops.constant(new float[channels]);
  }

  private static int[] strides(KerasLayer layer, int[] pool) {
    // Keras pooling layers default their strides to the pool size.
    return layer.config().path("strides").isArray() ? layer.ints("strides") : pool;
  }

  private static String padding(KerasLayer layer) {
    return switch (layer.string("padding")) {
      case "same" -> "SAME";
      case "valid" -> "VALID";
      default -> throw layer.unsupported("padding '" + layer.string("padding") + "'");
    };
  }

  private static void checkChannelsLast(KerasLayer layer) {
    String format = layer.config().path("data_format").asText("channels_last");
    if (!format.equals("channels_last")) {
      throw layer.unsupported("data_format " + format);
    }
  }

  private static Operand<TFloat32> single(KerasLayer layer, List<Operand<TFloat32>> inbound) {
    if (inbound.size() != 1) {
      throw layer.unsupported("expected one input, found " + inbound.size());
    }
    return inbound.get(0);
  }
}
