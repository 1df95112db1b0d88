package io.visualsearch.modelserver;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.proto.DataType;

/**
 * A tensor in Java heap memory, the common currency between the wire formats (TensorProto, JSON)
 * and TensorFlow's native tensors. Numeric data is row-major, little-endian (TensorProto's
 * tensor_content layout), so batching can concatenate and split rows as byte ranges.
 * Instances are immutable by convention: nobody writes to the arrays after construction.
 */
public final class HostTensor {

  static {
    // tensor_content is little-endian and native tensors use host order; on a big-endian host
    // the byte copies below would silently scramble numbers.
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new IllegalStateException("the model server requires a little-endian host");
    }
  }

  private final DataType dtype;
  private final long[] shape;
  private final byte[] data;
  private final List<byte[]> strings;

  private HostTensor(DataType dtype, long[] shape, byte[] data, List<byte[]> strings) {
    this.dtype = dtype;
    this.shape = shape.clone();
    this.data = data;
    this.strings = strings;
  }

  /** A numeric tensor over little-endian row-major bytes. */
  public static HostTensor numeric(DataType dtype, long[] shape, byte[] data) {
    long expected = Math.multiplyExact(elementCount(shape), (long) DTypes.byteSize(dtype));
    if (data.length != expected) {
      throw new IllegalArgumentException(
          "a " + dtype + " tensor of shape " + Arrays.toString(shape) + " needs " + expected + " bytes, got " + data.length);
    }
    return new HostTensor(dtype, shape, data, null);
  }

  /** A DT_STRING tensor; elements are arbitrary bytes in row-major order. */
  public static HostTensor strings(long[] shape, List<byte[]> elements) {
    if (elements.size() != elementCount(shape)) {
      throw new IllegalArgumentException(
          "a string tensor of shape " + Arrays.toString(shape) + " needs " + elementCount(shape) + " elements, got "
              + elements.size());
    }
    return new HostTensor(DataType.DT_STRING, shape, null, List.copyOf(elements));
  }

  public DataType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int i) {
    return shape[i];
  }

  public long elementCount() {
    return elementCount(shape);
  }

  public boolean isString() {
    return dtype == DataType.DT_STRING;
  }

  /** Little-endian bytes of a numeric tensor; callers must not modify the array. */
  public byte[] data() {
    if (data == null) {
      throw new IllegalStateException("a string tensor has no byte data");
    }
    return data;
  }

  public List<byte[]> stringElements() {
    if (strings == null) {
      throw new IllegalStateException(dtype + " tensor has no string elements");
    }
    return strings;
  }

  /**
   * Most dimensions a tensor may have: TensorFlow's own limit, which it enforces by aborting the
   * process, so requests are held to it before a tensor is made.
   */
  static final int MAX_RANK = 254;

  /** Heap a string element takes beside its bytes: its array's header and the list's reference to it. */
  static final long STRING_ELEMENT_OVERHEAD = 24;

  /**
   * Heap the data takes: the numeric buffer, or the string elements' bytes plus each element's own
   * overhead (a million one-byte strings hold ~24 MB, not 1 MB).
   */
  public long byteSize() {
    if (!isString()) {
      return data().length;
    }
    long n = 0;
    for (byte[] e : stringElements()) {
      n += e.length + STRING_ELEMENT_OVERHEAD;
    }
    return n;
  }

  /** Shape without the leading (batch) dimension. */
  public long[] rowShape() {
    return Arrays.copyOfRange(shape, 1, shape.length);
  }

  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  @Override
  public String toString() {
    return dtype + Arrays.toString(shape);
  }
}
