package io.visualsearch.evaluation;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TUint8;

/**
 * The head's pixel input: the image as the catalog stores it, 28x28 grey (0-255), flattened. This
 * catalog's products are small centred grey-level photos on black, where the raw layout alone
 * already separates categories about as well as the frozen backbone ({@code raw} vs {@code mixed5}
 * in RESULTS.md), and the two views err on different images. Inside the exported graph any input
 * size is resized (half-pixel centres, as the backbone's own preprocessing) and the RGB channels
 * averaged; a 28x28 grey image replicated to RGB passes through unchanged, so training on the
 * catalog's bytes and serving from pixels agree.
 */
final class PixelBranch {

  static final int SIDE = 28;
  static final int PIXELS = SIDE * SIDE;

  private PixelBranch() {}

  /** {@code [N, H, W, 3]} uint8 to {@code [N, 784]} float grey values. */
  static Operand<TFloat32> pixels(Ops tf, Operand<TUint8> images) {
    Ops ops = tf.withSubScope("pixel_branch");
    Operand<TFloat32> resized = ops.image.resizeBilinear(images, ops.constant(new int[] {SIDE, SIDE}),
        ResizeBilinear.halfPixelCenters(true));
    Operand<TFloat32> grey = ops.math.mean(resized, ops.constant(3));
    return ops.reshape(grey, ops.constant(new int[] {-1, PIXELS}));
  }

  /** The catalog's grey bytes as the branch's input rows, for training and validation. */
  static Features of(LabeledImages images) {
    if (images.height() != SIDE || images.width() != SIDE) {
      throw new IllegalArgumentException("pixel branch trains on " + SIDE + "x" + SIDE + " images, got "
          + images.height() + "x" + images.width());
    }
    byte[] bytes = images.pixels();
    float[] rows = new float[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      rows[i] = bytes[i] & 0xff;
    }
    return new Features(rows, PIXELS);
  }
}
