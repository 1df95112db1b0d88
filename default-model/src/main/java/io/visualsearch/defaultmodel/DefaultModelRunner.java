package io.visualsearch.defaultmodel;

import java.nio.file.Path;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TUint8;

/**
 * Runs the exported default model's signatures in-process. It owns the loaded SavedModel (graph,
 * session and their native memory) until {@link #close()}. The model server has its own loader;
 * this one serves the exporter's self-check, the tests and the benchmark.
 */
public final class DefaultModelRunner implements AutoCloseable {

  private final SavedModelBundle bundle;

  private DefaultModelRunner(SavedModelBundle bundle) {
    this.bundle = bundle;
  }

  /** Loads a SavedModel version directory (the one holding {@code saved_model.pb}). */
  public static DefaultModelRunner load(Path versionDir) {
    return new DefaultModelRunner(SavedModelBundle.load(versionDir.toString(), SavedModelBundle.DEFAULT_TAG));
  }

  /** The loaded bundle, for inspecting signatures. Owned by this runner. */
  public SavedModelBundle bundle() {
    return bundle;
  }

  /**
   * Runs {@code signature} on {@code images} and returns its single output as {@code [batch][dim]}.
   */
  public float[][] run(String signature, ImageBatch images) {
    try (TUint8 input = images.toTensor();
        Result result = bundle.function(signature).call(Map.of(DefaultModelSignatures.INPUT, input))) {
      if (result.size() != 1) {
        throw new IllegalStateException(signature + " returned " + result.size() + " outputs");
      }
      Tensor output = result.get(0);
      if (!(output instanceof TFloat32 floats) || output.shape().numDimensions() != 2) {
        throw new IllegalStateException(signature + " returned " + output.dataType() + output.shape());
      }
      return StdArrays.array2dCopyOf(floats);
    }
  }

  @Override
  public void close() {
    bundle.close();
  }
}
