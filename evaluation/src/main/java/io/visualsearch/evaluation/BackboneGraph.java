package io.visualsearch.evaluation;

import io.visualsearch.defaultmodel.DefaultModelSignatures;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TUint8;

/**
 * The frozen backbone inside a default-model graph (loaded, or imported into a new graph): its
 * {@code images} input, its {@code serving_default} embedding, and a spatial summary of the
 * {@code mixed5} map that the fine-tuned head reads — the map average-pooled to a
 * {@value #GRID}x{@value #GRID} grid, so the head sees where in the frame features are (a shirt's
 * collar, a sandal's straps), which the global average of {@code serving_default} throws away.
 *
 * <p>The map is found by its name in default-model's graph ({@value #MIXED5_OP}: tower
 * {@code mixed5_224}, Keras layer {@code mixed5}) and its shape is checked, so a change of that
 * graph fails loudly here rather than silently training on something else.
 */
final class BackboneGraph {

  static final String MIXED5_OP = "mixed5_224/mixed5/Concat";
  static final int GRID = 2;
  static final int CHANNELS = 768;
  static final int GRID_FEATURES = GRID * GRID * CHANNELS;

  final Output<TUint8> images;
  final Output<TFloat32> embedding;
  final Operand<TFloat32> grid;

  private BackboneGraph(Output<TUint8> images, Output<TFloat32> embedding, Operand<TFloat32> grid) {
    this.images = images;
    this.embedding = embedding;
    this.grid = grid;
  }

  /** Finds the backbone in {@code graph} (built from {@code metaGraph}) and adds the grid pooling ops. */
  static BackboneGraph attach(Graph graph, MetaGraphDef metaGraph) {
    SignatureDef serving = metaGraph.getSignatureDefMap().get(DefaultModelSignatures.SERVING_DEFAULT);
    if (serving == null) {
      throw new IllegalArgumentException("model has no " + DefaultModelSignatures.SERVING_DEFAULT + " signature");
    }
    Output<TUint8> images = output(graph, serving.getInputsMap().get(DefaultModelSignatures.INPUT).getName());
    Output<TFloat32> embedding = output(graph, serving.getOutputsMap().get(DefaultModelSignatures.EMBEDDING).getName());
    GraphOperation mixed5 = graph.operation(MIXED5_OP);
    if (mixed5 == null) {
      throw new IllegalArgumentException("model graph has no " + MIXED5_OP + "; is it default-model's InceptionV3?");
    }
    Output<TFloat32> map = mixed5.output(0);
    Shape shape = map.shape();
    if (shape.numDimensions() != 4 || shape.get(1) % GRID != 0 || shape.get(2) % GRID != 0 || shape.get(3) != CHANNELS) {
      throw new IllegalArgumentException(MIXED5_OP + " has shape " + shape + ", expected [-1, h, w, " + CHANNELS
          + "] with h and w divisible by " + GRID);
    }
    Ops tf = Ops.create(graph).withSubScope("mixed5_grid");
    long cellH = shape.get(1) / GRID;
    long cellW = shape.get(2) / GRID;
    Operand<TFloat32> pooled = tf.nn.avgPool(map, List.of(1L, cellH, cellW, 1L), List.of(1L, cellH, cellW, 1L), "VALID");
    Operand<TFloat32> grid = tf.withName("features").reshape(pooled, tf.constant(new long[] {-1, GRID_FEATURES}));
    return new BackboneGraph(images, embedding, grid);
  }

  @SuppressWarnings("unchecked")
  private static <T extends org.tensorflow.types.family.TType> Output<T> output(Graph graph, String tensorName) {
    int colon = tensorName.lastIndexOf(':');
    String op = colon < 0 ? tensorName : tensorName.substring(0, colon);
    int index = colon < 0 ? 0 : Integer.parseInt(tensorName.substring(colon + 1));
    GraphOperation operation = graph.operation(op);
    if (operation == null) {
      throw new IllegalArgumentException("signature names tensor " + tensorName + ", which the graph lacks");
    }
    return (Output<T>) operation.output(index);
  }
}
