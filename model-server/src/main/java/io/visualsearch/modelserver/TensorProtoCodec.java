package io.visualsearch.modelserver;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * TensorProto to and from {@link HostTensor}. Input accepts both encodings TensorFlow clients use:
 * packed {@code tensor_content} and the typed repeated fields ({@code float_val}, {@code int_val},
 * ...), including TensorFlow's shorthand of one value for a whole tensor. Output is in the typed
 * fields, one value per element, as TensorFlow Serving's Predict answers by default (its
 * {@code kAsProtoField}): a stock client reading {@code outputs['x'].float_val} finds its values,
 * which in {@code tensor_content} it would not.
 */
public final class TensorProtoCodec {

  private final long maxTensorBytes;

  /**
   * @param maxTensorBytes most bytes one decoded input may take: the largest message accepted, since
   *     TensorFlow's one-value shorthand lets a request of a few bytes declare a tensor of gigabytes
   */
  public TensorProtoCodec(long maxTensorBytes) {
    this.maxTensorBytes = maxTensorBytes;
  }

  /**
   * What the inputs of one request may take decoded, together: each input is held to the same limit
   * as one message, but a request of forty few-byte inputs, each declaring the limit through the
   * one-value shorthand, would otherwise be decoded into forty times as much heap.
   */
  public final class RequestBudget {
    private long left = maxTensorBytes;

    private void spend(String name, long bytes) {
      if (bytes > left) {
        throw ServingException.invalid("input '" + name + "' would take " + bytes + " bytes decoded, more than the "
            + left + " left of the " + maxTensorBytes + " a request's inputs may take together");
      }
      left -= bytes;
    }
  }

  public RequestBudget requestBudget() {
    return new RequestBudget();
  }

  /** Decodes a request's inputs, in its order, against one budget for them all. */
  public java.util.Map<String, HostTensor> decodeInputs(java.util.Map<String, TensorProto> inputs) {
    RequestBudget budget = requestBudget();
    java.util.Map<String, HostTensor> decoded = new java.util.LinkedHashMap<>();
    inputs.forEach((name, proto) -> decoded.put(name, decode(name, proto, budget)));
    return decoded;
  }

  /** Decodes one named input; {@code name} only appears in error messages. */
  public HostTensor decode(String name, TensorProto proto) {
    return decode(name, proto, new RequestBudget());
  }

  /** The same, spending from the budget of the request the input belongs to. */
  public HostTensor decode(String name, TensorProto proto, RequestBudget budget) {
    DataType dtype = proto.getDtype();
    if (!DTypes.isSupported(dtype)) {
      throw ServingException.invalid("input '" + name + "': " + DTypes.unsupported(dtype).getMessage());
    }
    long[] shape = shapeOf(name, proto.getTensorShape());
    long count;
    try {
      count = HostTensor.elementCount(shape);
    } catch (ArithmeticException e) {
      throw ServingException.invalid("input '" + name + "': shape is too large");
    }
    if (dtype == DataType.DT_STRING) {
      long stringBytes = 0;
      for (ByteString v : proto.getStringValList()) {
        stringBytes += v.size();
      }
      boolean oneForAll = proto.getStringValCount() == 1; // each element gets its own copy of the value
      long perElement = HostTensor.STRING_ELEMENT_OVERHEAD + (oneForAll ? stringBytes : 0);
      budget.spend(name, checkSize(name, count, perElement, oneForAll ? 0 : stringBytes));
      return HostTensor.strings(shape, stringsOf(name, proto, count));
    }
    int width = DTypes.byteSize(dtype);
    budget.spend(name, checkSize(name, count, width, 0));
    int bytes = (int) (count * width);
    if (!proto.getTensorContent().isEmpty()) {
      if (proto.getTensorContent().size() != bytes) {
        throw ServingException.invalid("input '" + name + "': tensor_content has " + proto.getTensorContent().size()
            + " bytes but a " + dtype + " tensor of shape " + ShapeText.of(shape) + " needs " + bytes);
      }
      return HostTensor.numeric(dtype, shape, proto.getTensorContent().toByteArray());
    }
    return HostTensor.numeric(dtype, shape, typedValues(name, proto, dtype, (int) count));
  }

  /**
   * Refuses a tensor whose decoded size, {@code count * perElement + shared} bytes, is over the
   * limit; returns that size.
   */
  private long checkSize(String name, long count, long perElement, long shared) {
    long limit = Math.min(maxTensorBytes, Integer.MAX_VALUE - 8);
    long bytes;
    try {
      bytes = Math.addExact(Math.multiplyExact(count, perElement), shared);
    } catch (ArithmeticException e) {
      bytes = Long.MAX_VALUE;
    }
    if (bytes > limit) {
      throw ServingException.invalid("input '" + name + "': a tensor of " + count + " elements would take "
          + (bytes == Long.MAX_VALUE ? "more than " + Long.MAX_VALUE : Long.toString(bytes))
          + " bytes decoded, more than the " + limit + " a request may carry");
    }
    return bytes;
  }

  /** An output tensor, its values in the field TensorFlow's {@code Tensor::AsProtoField} uses for the dtype. */
  public TensorProto encode(HostTensor t) {
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(t.dtype()).setTensorShape(shapeProto(t.shape()));
    if (t.isString()) {
      for (byte[] s : t.stringElements()) {
        b.addStringVal(ByteString.copyFrom(s));
      }
      return b.build();
    }
    ByteBuffer in = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
    switch (t.dtype()) {
      case DT_FLOAT -> {
        while (in.hasRemaining()) {
          b.addFloatVal(in.getFloat());
        }
      }
      case DT_DOUBLE -> {
        while (in.hasRemaining()) {
          b.addDoubleVal(in.getDouble());
        }
      }
      case DT_INT32 -> {
        while (in.hasRemaining()) {
          b.addIntVal(in.getInt());
        }
      }
      case DT_INT64 -> {
        while (in.hasRemaining()) {
          b.addInt64Val(in.getLong());
        }
      }
      case DT_UINT8 -> {
        while (in.hasRemaining()) {
          b.addIntVal(in.get() & 0xff);
        }
      }
      case DT_BOOL -> {
        while (in.hasRemaining()) {
          b.addBoolVal(in.get() != 0);
        }
      }
      default -> throw DTypes.unsupported(t.dtype());
    }
    return b.build();
  }

  static TensorShapeProto shapeProto(long[] shape) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : shape) {
      s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return s.build();
  }

  private static long[] shapeOf(String name, TensorShapeProto shape) {
    if (shape.getUnknownRank()) {
      throw ServingException.invalid("input '" + name + "': shape must be fully defined, got unknown rank");
    }
    if (shape.getDimCount() > HostTensor.MAX_RANK) {
      throw ServingException.invalid("input '" + name + "': " + shape.getDimCount() + " dimensions, more than the "
          + HostTensor.MAX_RANK + " a tensor may have");
    }
    long[] dims = new long[shape.getDimCount()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shape.getDim(i).getSize();
      if (dims[i] < 0) {
        throw ServingException.invalid("input '" + name + "': shape must be fully defined, dimension " + i + " is "
            + dims[i]);
      }
    }
    return dims;
  }

  private static List<byte[]> stringsOf(String name, TensorProto proto, long count) {
    int n = proto.getStringValCount();
    checkValueCount(name, n, count);
    List<byte[]> out = new ArrayList<>((int) count);
    for (int i = 0; i < count; i++) {
      out.add(proto.getStringVal(n == 1 ? 0 : i).toByteArray());
    }
    return out;
  }

  /** Packs the typed repeated field matching {@code dtype} into little-endian bytes. */
  private static byte[] typedValues(String name, TensorProto p, DataType dtype, int count) {
    ByteBuffer out = ByteBuffer.allocate(count * DTypes.byteSize(dtype)).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case DT_FLOAT -> {
        checkValueCount(name, p.getFloatValCount(), count);
        for (int i = 0; i < count; i++) {
          out.putFloat(p.getFloatVal(p.getFloatValCount() == 1 ? 0 : i));
        }
      }
      case DT_DOUBLE -> {
        checkValueCount(name, p.getDoubleValCount(), count);
        for (int i = 0; i < count; i++) {
          out.putDouble(p.getDoubleVal(p.getDoubleValCount() == 1 ? 0 : i));
        }
      }
      case DT_INT32 -> {
        checkValueCount(name, p.getIntValCount(), count);
        for (int i = 0; i < count; i++) {
          out.putInt(p.getIntVal(p.getIntValCount() == 1 ? 0 : i));
        }
      }
      case DT_INT64 -> {
        checkValueCount(name, p.getInt64ValCount(), count);
        for (int i = 0; i < count; i++) {
          out.putLong(p.getInt64Val(p.getInt64ValCount() == 1 ? 0 : i));
        }
      }
      case DT_UINT8 -> {
        // TensorFlow carries uint8 values in int_val.
        checkValueCount(name, p.getIntValCount(), count);
        for (int i = 0; i < count; i++) {
          int v = p.getIntVal(p.getIntValCount() == 1 ? 0 : i);
          if (v < 0 || v > 255) {
            throw ServingException.invalid("input '" + name + "': DT_UINT8 value " + v + " at element " + i
                + " is outside 0..255");
          }
          out.put((byte) v);
        }
      }
      case DT_BOOL -> {
        checkValueCount(name, p.getBoolValCount(), count);
        for (int i = 0; i < count; i++) {
          out.put((byte) (p.getBoolVal(p.getBoolValCount() == 1 ? 0 : i) ? 1 : 0));
        }
      }
      default -> throw DTypes.unsupported(dtype);
    }
    return out.array();
  }

  /**
   * Exactly one value per element, or a single value that fills the tensor (TensorFlow's
   * shorthand). TensorFlow would also pad any shorter list with its last value; we refuse that,
   * since a short list is far more often a client bug than an intent.
   */
  private static void checkValueCount(String name, int values, long count) {
    if (values == count || (values == 1 && count > 0)) {
      return;
    }
    throw ServingException.invalid("input '" + name + "': " + values + " values given for a tensor of " + count
        + " elements (send tensor_content, one value per element, or one value for all)");
  }
}
