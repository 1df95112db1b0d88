package io.visualsearch.evaluation;

import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TFloat32;

/**
 * Every inner product of a block of queries with a whole gallery, as one TensorFlow matrix product.
 * At 768 dimensions the full protocol is 10,000 x 60,000 dot products; TensorFlow's multithreaded
 * GEMM does them in seconds where a scalar Java loop took minutes. Owns its graph, session and the
 * gallery tensor, which is fed to every run without being copied again.
 */
final class InnerProducts implements AutoCloseable {

  private final int dim;
  private final int galleryCount;
  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TFloat32> galleryInput;
  private final Placeholder<TFloat32> queryInput;
  private final Operand<TFloat32> scores;
  private final TFloat32 galleryTensor;

  InnerProducts(Features gallery) {
    this.dim = gallery.dim();
    this.galleryCount = gallery.count();
    Ops tf = Ops.create(graph);
    galleryInput = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, dim)));
    queryInput = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, dim)));
    scores = tf.linalg.matMul(queryInput, galleryInput, MatMul.transposeB(true));
    session = new Session(graph);
    galleryTensor = TFloat32.tensorOf(Shape.of(galleryCount, dim), DataBuffers.of(gallery.rows(), true, false));
  }

  int galleryCount() {
    return galleryCount;
  }

  /** Scores of queries {@code first .. first+size-1}: row-major {@code size x galleryCount}. */
  float[] scores(Features queries, int first, int size) {
    if (queries.dim() != dim) {
      throw new IllegalArgumentException("queries of " + queries.dim() + " dimensions against a gallery of " + dim);
    }
    float[] out = new float[Math.multiplyExact(size, galleryCount)];
    try (TFloat32 block = TFloat32.tensorOf(Shape.of(size, dim),
            DataBuffers.of(queries.rows(), true, false).slice((long) first * dim, (long) size * dim));
        Result result = session.runner().feed(galleryInput, galleryTensor).feed(queryInput, block).fetch(scores).run()) {
      ((TFloat32) result.get(0)).asRawTensor().data().asFloats().read(out);
    }
    return out;
  }

  @Override
  public void close() {
    galleryTensor.close();
    session.close();
    graph.close();
  }
}
