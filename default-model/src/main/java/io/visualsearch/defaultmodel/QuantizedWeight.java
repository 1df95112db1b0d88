package io.visualsearch.defaultmodel;

import java.util.Arrays;

/**
 * One weight tensor as the package ships it: uint8 codes plus the affine map back to float32,
 * {@code value = code * scale + min}.
 *
 * @param name Keras weight name, e.g. {@code conv2d_1/kernel}
 * @param shape dimensions in Keras order (HWIO for convolution kernels)
 * @param min value of code 0
 * @param scale step between consecutive codes
 * @param codes one byte per element, row-major
 */
public record QuantizedWeight(String name, long[] shape, double min, double scale, byte[] codes) {

  public QuantizedWeight {
    if (codes.length != elementCount(shape)) {
      throw new IllegalArgumentException(
          name + ": " + codes.length + " codes for shape " + Arrays.toString(shape));
    }
  }

  /**
   * The float32 value of each of the 256 codes. The product and sum are taken in double and
   * rounded once to float32, exactly as TensorFlow.js's weight loader does, so a graph that looks
   * codes up in this table holds bit-identical weights to the original model.
   */
  public float[] dequantisationTable() {
    float[] table = new float[256];
    for (int code = 0; code < 256; code++) {
      table[code] = (float) (code * scale + min);
    }
    return table;
  }

  /** The float32 weights, for tests and tooling; the exported graph dequantises by itself. */
  public float[] dequantise() {
    float[] table = dequantisationTable();
    float[] values = new float[codes.length];
    for (int i = 0; i < codes.length; i++) {
      values[i] = table[Byte.toUnsignedInt(codes[i])];
    }
    return values;
  }

  /** Size of the last dimension, e.g. output channels of a kernel or length of a vector. */
  public int lastDimension() {
    return Math.toIntExact(shape[shape.length - 1]);
  }

  static long elementCount(long[] shape) {
    long count = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      count = Math.multiplyExact(count, d);
    }
    return count;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof QuantizedWeight w
        && name.equals(w.name)
        && Arrays.equals(shape, w.shape)
        && Double.compare(min, w.min) == 0
        && Double.compare(scale, w.scale) == 0
        && Arrays.equals(codes, w.codes);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + Arrays.toString(shape) + " uint8 min=" + min + " scale=" + scale;
  }
}
