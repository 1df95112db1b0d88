package io.visualsearch.modelserver;

import java.nio.file.Path;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TUint8;

/**
 * The expected answers: the same SavedModel run directly through TensorFlow Java's own calling
 * path (SavedModelBundle.call), one image at a time, bypassing every class under test.
 */
final class ReferenceModel implements AutoCloseable {

  private final SavedModelBundle bundle;

  ReferenceModel(Path versionDir) {
    this.bundle = SavedModelBundle.load(versionDir.toString(), "serve");
  }

  float[] embed(byte[] pixels, int h, int w) {
    try (TUint8 image = TUint8.tensorOf(Shape.of(1, h, w, 3), DataBuffers.of(pixels, true, false));
        Result r = bundle.call(Map.<String, Tensor>of("image", image))) {
      TFloat32 out = (TFloat32) r.get("embedding").orElseThrow();
      float[] v = new float[(int) out.shape().size(1)];
      for (int i = 0; i < v.length; i++) {
        v[i] = out.getFloat(0, i);
      }
      return v;
    }
  }

  @Override
  public void close() {
    bundle.close();
  }
}
