package io.visualsearch.defaultmodel;

import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TUint8;

/**
 * A batch of same-sized RGB images as the model's signatures take them: uint8, row-major
 * {@code [batch, height, width, 3]}.
 */
public record ImageBatch(byte[] pixels, int batch, int height, int width) {

  public ImageBatch {
    if (batch < 1 || height < 1 || width < 1) {
      throw new IllegalArgumentException("empty image batch " + batch + "x" + height + "x" + width);
    }
    if (pixels.length != (long) batch * height * width * 3) {
      throw new IllegalArgumentException(
          pixels.length + " bytes do not make " + batch + " RGB images of " + height + "x" + width);
    }
  }

  /** A new tensor holding a copy of the pixels; the caller closes it. */
  public TUint8 toTensor() {
    return TUint8.tensorOf(Shape.of(batch, height, width, 3), DataBuffers.of(pixels, true, false));
  }
}
