package io.visualsearch.defaultmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * A small Keras model that uses every layer kind InceptionV3 needs, translated to TensorFlow and
 * compared with a direct Java evaluation of Keras's layer semantics.
 */
class KerasGraphBuilderTest {

  private static final int H = 4;
  private static final int W = 4;
  private static final int C = 2;
  private static final int F = 3;

  private static final String TOPOLOGY =
      "{modelTopology:{model_config:{class_name:'Model',config:{layers:["
          + "{name:'in',class_name:'InputLayer',config:{batch_input_shape:[null,4,4,2]},inbound_nodes:[]},"
          + "{name:'conv',class_name:'Conv2D',config:{filters:3,kernel_size:[3,3],strides:[1,1],padding:'same',"
          + "data_format:'channels_last',dilation_rate:[1,1],activation:'linear',use_bias:!1},inbound_nodes:[[['in',0,0,{}]]]},"
          + "{name:'bn',class_name:'BatchNormalization',config:{axis:3,epsilon:.001,center:!0,scale:!1},inbound_nodes:[[['conv',0,0,{}]]]},"
          + "{name:'relu',class_name:'Activation',config:{activation:'relu'},inbound_nodes:[[['bn',0,0,{}]]]},"
          + "{name:'avg',class_name:'AveragePooling2D',config:{pool_size:[3,3],padding:'same',strides:[1,1],data_format:'channels_last'},inbound_nodes:[[['relu',0,0,{}]]]},"
          + "{name:'cat',class_name:'Concatenate',config:{axis:3},inbound_nodes:[[['relu',0,0,{}],['avg',0,0,{}]]]},"
          + "{name:'max',class_name:'MaxPooling2D',config:{pool_size:[2,2],padding:'valid',strides:[2,2],data_format:'channels_last'},inbound_nodes:[[['cat',0,0,{}]]]},"
          + "{name:'flat',class_name:'Flatten',config:{data_format:'channels_last'},inbound_nodes:[[['max',0,0,{}]]]},"
          + "{name:'drop',class_name:'Dropout',config:{rate:.5},inbound_nodes:[[['flat',0,0,{}]]]},"
          + "{name:'dense',class_name:'Dense',config:{units:2,activation:'softmax',use_bias:!0},inbound_nodes:[[['drop',0,0,{}]]]}"
          + "],input_layers:[['in',0,0]],output_layers:[['dense',0,0]]}}},"
          + "weightsManifest:[{paths:['shard1','shard2'],weights:["
          + "{name:'conv/kernel',shape:[3,3,2,3],dtype:'float32',quantization:{min:-.5,scale:.004,dtype:'uint8'}},"
          + "{name:'bn/beta',shape:[3],dtype:'float32',quantization:{min:-.2,scale:.002,dtype:'uint8'}},"
          + "{name:'bn/moving_mean',shape:[3],dtype:'float32',quantization:{min:-.1,scale:.001,dtype:'uint8'}},"
          + "{name:'bn/moving_variance',shape:[3],dtype:'float32',quantization:{min:.05,scale:.01,dtype:'uint8'}},"
          + "{name:'dense/kernel',shape:[24,2],dtype:'float32',quantization:{min:-.3,scale:.0025,dtype:'uint8'}},"
          + "{name:'dense/bias',shape:[2],dtype:'float32',quantization:{min:-.1,scale:.001,dtype:'uint8'}}"
          + "]}]}";

  private static final int WEIGHT_BYTES = 54 + 3 + 3 + 3 + 48 + 2;

  @Test
  void matchesKerasSemanticsForEveryLayerKind() {
    byte[] data = new byte[WEIGHT_BYTES];
    new Random(7).nextBytes(data);
    // split across two shards at an odd offset, as real shards split mid-weight
    Map<String, String> shards = Map.of(
        "shard1", Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(data, 0, 50)),
        "shard2", Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(data, 50, data.length)));
    KerasModelArtifacts model = KerasModelArtifacts.decode(JsLiteralParser.parse(TOPOLOGY), shards::get);

    float[][][][] input = new float[2][H][W][C];
    Random random = new Random(11);
    for (float[][][] image : input) {
      for (float[][] row : image) {
        for (float[] pixel : row) {
          for (int c = 0; c < C; c++) {
            pixel[c] = random.nextFloat() * 2 - 1;
          }
        }
      }
    }

    float[][] actual = runGraph(model, input);
    for (int b = 0; b < input.length; b++) {
      double[] expected = reference(model, input[b]);
      for (int k = 0; k < expected.length; k++) {
        assertEquals(expected[k], actual[b][k], 1e-5, "image " + b + " class " + k);
      }
    }
  }

  @Test
  void rejectsLayersItCannotTranslateFaithfully() {
    String strange = TOPOLOGY.replace("class_name:'Dropout'", "class_name:'SpatialDropout2D'");
    byte[] data = new byte[WEIGHT_BYTES];
    KerasModelArtifacts model = KerasModelArtifacts.decode(JsLiteralParser.parse(strange),
        p -> Base64.getEncoder().encodeToString(p.equals("shard1") ? new byte[50] : new byte[data.length - 50]));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> runGraph(model, new float[1][H][W][C]));
    assertTrue(e.getMessage().contains("SpatialDropout2D"), e.getMessage());
  }

  @Test
  void rejectsAManifestThatDoesNotCoverTheShards() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KerasModelArtifacts.decode(JsLiteralParser.parse(TOPOLOGY),
            p -> Base64.getEncoder().encodeToString(new byte[60])));
    assertTrue(e.getMessage().contains("bytes"), e.getMessage());
  }

  private static float[][] runGraph(KerasModelArtifacts model, float[][][][] input) {
    try (Graph graph = new Graph();
        Session session = new Session(graph)) {
      Ops tf = Ops.create(graph);
      KerasTopology topology = KerasTopology.from(model.modelTopology());
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, H, W, C)));
      Operand<TFloat32> y = new KerasGraphBuilder(tf, topology, new DequantisedWeights(tf, model))
          .build("test", x, List.of("dense")).get("dense");
      try (TFloat32 in = TFloat32.tensorOf(StdArrays.ndCopyOf(input));
          TFloat32 out = (TFloat32) session.runner().feed(x, in).fetch(y).run().get(0)) {
        return StdArrays.array2dCopyOf(out);
      }
    }
  }

  /** Keras inference semantics evaluated directly, in double precision. */
  private static double[] reference(KerasModelArtifacts model, float[][][] x) {
    float[] kernel = model.weight("conv/kernel").dequantise(); // [kh][kw][c][f]
    float[] beta = model.weight("bn/beta").dequantise();
    float[] mean = model.weight("bn/moving_mean").dequantise();
    float[] variance = model.weight("bn/moving_variance").dequantise();
    double[][][] relu = new double[H][W][F];
    for (int i = 0; i < H; i++) {
      for (int j = 0; j < W; j++) {
        for (int f = 0; f < F; f++) {
          double sum = 0;
          for (int di = 0; di < 3; di++) {
            for (int dj = 0; dj < 3; dj++) {
              int si = i + di - 1;
              int sj = j + dj - 1;
              if (si < 0 || sj < 0 || si >= H || sj >= W) {
                continue; // 'same' zero padding
              }
              for (int c = 0; c < C; c++) {
                sum += x[si][sj][c] * kernel[((di * 3 + dj) * C + c) * F + f];
              }
            }
          }
          double normalised = (sum - mean[f]) / Math.sqrt(variance[f] + 0.001) + beta[f];
          relu[i][j][f] = Math.max(0, normalised);
        }
      }
    }
    double[][][] concat = new double[H][W][2 * F];
    for (int i = 0; i < H; i++) {
      for (int j = 0; j < W; j++) {
        for (int f = 0; f < F; f++) {
          double sum = 0;
          int count = 0; // padding is excluded from the average
          for (int si = Math.max(0, i - 1); si <= Math.min(H - 1, i + 1); si++) {
            for (int sj = Math.max(0, j - 1); sj <= Math.min(W - 1, j + 1); sj++) {
              sum += relu[si][sj][f];
              count++;
            }
          }
          concat[i][j][f] = relu[i][j][f];
          concat[i][j][F + f] = sum / count;
        }
      }
    }
    double[] flat = new double[(H / 2) * (W / 2) * 2 * F];
    int n = 0;
    for (int i = 0; i < H; i += 2) {
      for (int j = 0; j < W; j += 2) {
        for (int f = 0; f < 2 * F; f++) {
          flat[n++] = Math.max(Math.max(concat[i][j][f], concat[i][j + 1][f]),
              Math.max(concat[i + 1][j][f], concat[i + 1][j + 1][f]));
        }
      }
    }
    float[] dense = model.weight("dense/kernel").dequantise(); // [24][2]
    float[] bias = model.weight("dense/bias").dequantise();
    double[] logits = new double[2];
    for (int k = 0; k < 2; k++) {
      logits[k] = bias[k];
      for (int i = 0; i < flat.length; i++) {
        logits[k] += flat[i] * dense[i * 2 + k];
      }
    }
    double max = Math.max(logits[0], logits[1]);
    double e0 = Math.exp(logits[0] - max);
    double e1 = Math.exp(logits[1] - max);
    return new double[] {e0 / (e0 + e1), e1 / (e0 + e1)};
  }
}
