package io.visualsearch.evaluation;

import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * A trained head run on cached backbone features (and pixels, with a pixel branch), with the
 * exported model's own ops (constants, no dropout, the same composition), so its output is what the
 * published model returns for those images.
 * Owns its graph and session.
 */
final class HeadInference implements AutoCloseable {

  private static final int BATCH = 1024;

  private final ProjectionHead head;
  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TFloat32> pretrained;
  private final Placeholder<TFloat32> grid;
  private final Operand<TFloat32> embedding;

  HeadInference(ProjectionHead head) {
    this.head = head;
    Ops tf = Ops.create(graph);
    pretrained = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, BackboneGraph.CHANNELS)));
    grid = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, head.inputs())));
    HeadGraph headGraph = new HeadGraph(tf, HeadGraph.Weights.constants(tf, head), head.hidden(), head.gridInputs(), head.pixels());
    embedding = HeadGraph.compose(tf, pretrained, HeadGraph.shipped(tf, head, headGraph.project(grid, 0, 0)), head.blend(),
        head.instanceShare());
    session = new Session(graph);
  }

  /** {@code gridRows} are the head's input rows ([grid, pixels]); {@code pretrainedRows} are read only when blended. */
  Features embed(Features pretrainedRows, Features gridRows) {
    int n = gridRows.count();
    int dim = head.outputDim();
    float[] out = new float[n * dim];
    for (int first = 0; first < n; first += BATCH) {
      int size = Math.min(BATCH, n - first);
      try (TFloat32 p = head.blend() > 0 ? slice(pretrainedRows, first, size) : TFloat32.tensorOf(Shape.of(size, BackboneGraph.CHANNELS));
          TFloat32 g = slice(gridRows, first, size);
          Result result = session.runner().feed(pretrained, p).feed(grid, g).fetch(embedding).run()) {
        BackboneFeatures.copyRows((TFloat32) result.get(0), out, first, size, dim);
      }
    }
    return new Features(out, dim);
  }

  private static TFloat32 slice(Features rows, int first, int size) {
    return TFloat32.tensorOf(Shape.of(size, rows.dim()),
        DataBuffers.of(rows.rows(), true, false).slice((long) first * rows.dim(), (long) size * rows.dim()));
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
