package io.visualsearch.modelserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.tensorflow.proto.DataType;

/**
 * Tensors as TensorFlow Serving's REST API writes them: nested JSON arrays, row-major; binary
 * strings as {@code {"b64": "..."}}. Decoding needs the input's dtype (from the signature), since
 * JSON numbers do not carry one.
 */
final class JsonTensorCodec {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  /** Bits of the largest integers a float and a double hold exactly (their significands'). */
  private static final int FLOAT_EXACT_INTEGER_BITS = 24;
  private static final int DOUBLE_EXACT_INTEGER_BITS = 53;

  /** A whole tensor from one nested-array value ("inputs" format). */
  HostTensor decode(String alias, JsonNode value, DataType dtype) {
    List<Long> dims = new ArrayList<>();
    JsonNode n = value;
    while (n.isArray()) {
      if (dims.size() == HostTensor.MAX_RANK) {
        throw ServingException.invalid("input '" + alias + "' is nested more than " + HostTensor.MAX_RANK
            + " lists deep, more dimensions than a tensor may have");
      }
      dims.add((long) n.size());
      if (n.size() == 0) {
        break;
      }
      n = n.get(0);
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    // Rectangular first, then allocated: the first element at each depth alone declares the shape,
    // and a few kilobytes of lists of 800 declare gigabytes. Checked, the tensor has no more
    // elements than the parsed body has values.
    walk(alias, value, shape, 0, null);
    Leaves leaves = new Leaves(alias, dtype, HostTensor.elementCount(shape));
    walk(alias, value, shape, 0, leaves);
    return leaves.build(shape);
  }

  /** A tensor stacked from one value per instance ("instances" format): shape [n, ...row]. */
  HostTensor decodeRows(String alias, List<JsonNode> rows, DataType dtype) {
    ArrayNode stacked = NODES.arrayNode();
    rows.forEach(stacked::add);
    return decode(alias, stacked, dtype);
  }

  /** Checks that {@code node} has {@code shape} from {@code depth} on; adds its leaves to {@code out} unless null. */
  private void walk(String alias, JsonNode node, long[] shape, int depth, Leaves out) {
    if (depth == shape.length) {
      if (out != null) {
        out.add(node);
      }
      return;
    }
    if (!node.isArray() || node.size() != shape[depth]) {
      throw ServingException.invalid("input '" + alias + "' is not a rectangular tensor: expected a list of "
          + shape[depth] + " at depth " + depth + ", got " + describe(node));
    }
    for (JsonNode child : node) {
      walk(alias, child, shape, depth + 1, out);
    }
  }

  private static String describe(JsonNode n) {
    return n.isArray() ? "a list of " + n.size() : n.getNodeType().toString().toLowerCase();
  }

  /** The JSON value of a whole tensor. */
  JsonNode encode(String alias, HostTensor t) {
    return encodeFrom(alias, t, t.shape(), 0, 0);
  }

  /** The JSON value of row {@code row} of a tensor with a leading batch dimension. */
  JsonNode encodeRow(String alias, HostTensor t, long row) {
    long[] shape = t.shape();
    long rowElements = HostTensor.elementCount(t.rowShape());
    return encodeFrom(alias, t, shape, 1, row * rowElements);
  }

  private JsonNode encodeFrom(String alias, HostTensor t, long[] shape, int depth, long offset) {
    if (depth == shape.length) {
      return scalar(alias, t, offset);
    }
    ArrayNode a = NODES.arrayNode();
    long stride = 1;
    for (int i = depth + 1; i < shape.length; i++) {
      stride *= shape[i];
    }
    for (long i = 0; i < shape[depth]; i++) {
      a.add(encodeFrom(alias, t, shape, depth + 1, offset + i * stride));
    }
    return a;
  }

  private JsonNode scalar(String alias, HostTensor t, long index) {
    int i = Math.toIntExact(index);
    if (t.isString()) {
      byte[] s = t.stringElements().get(i);
      String text = alias.endsWith("_bytes") ? null : utf8OrNull(s);
      if (text == null) {
        ObjectNode b64 = NODES.objectNode();
        b64.put("b64", Base64.getEncoder().encodeToString(s));
        return b64;
      }
      return NODES.textNode(text);
    }
    ByteBuffer d = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
    return switch (t.dtype()) {
      case DT_FLOAT -> NODES.numberNode(d.getFloat(i * 4));
      case DT_DOUBLE -> NODES.numberNode(d.getDouble(i * 8));
      case DT_INT32 -> NODES.numberNode(d.getInt(i * 4));
      case DT_INT64 -> NODES.numberNode(d.getLong(i * 8));
      case DT_UINT8 -> NODES.numberNode(d.get(i) & 0xff);
      case DT_BOOL -> NODES.booleanNode(d.get(i) != 0);
      default -> throw DTypes.unsupported(t.dtype());
    };
  }

  private static String utf8OrNull(byte[] s) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(s)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  static boolean isBase64Value(JsonNode n) {
    return n.isObject() && n.size() == 1 && n.has("b64");
  }

  /** Collects leaf values of one dtype into the layout HostTensor expects. */
  private static final class Leaves {
    private final String alias;
    private final DataType dtype;
    private final ByteBuffer bytes;
    private final List<byte[]> strings;
    private long index;

    Leaves(String alias, DataType dtype, long count) {
      this.alias = alias;
      this.dtype = dtype;
      if (dtype == DataType.DT_STRING) {
        this.bytes = null;
        this.strings = new ArrayList<>();
      } else {
        long size = count * DTypes.byteSize(dtype);
        if (size > Integer.MAX_VALUE - 8) {
          throw ServingException.invalid("input '" + alias + "' is too large");
        }
        this.bytes = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        this.strings = null;
      }
    }

    void add(JsonNode v) {
      switch (dtype) {
        case DT_STRING -> strings.add(stringOf(v));
        case DT_FLOAT -> bytes.putFloat((float) lossless(v, FLOAT_EXACT_INTEGER_BITS, Float.MAX_VALUE, "float"));
        case DT_DOUBLE -> bytes.putDouble(lossless(v, DOUBLE_EXACT_INTEGER_BITS, Double.MAX_VALUE, "double"));
        case DT_INT32 -> bytes.putInt((int) integer(v, Integer.MIN_VALUE, Integer.MAX_VALUE));
        case DT_INT64 -> bytes.putLong(integer(v, Long.MIN_VALUE, Long.MAX_VALUE));
        case DT_UINT8 -> bytes.put((byte) integer(v, 0, 255));
        case DT_BOOL -> {
          if (!v.isBoolean()) {
            throw bad(v, "true or false");
          }
          bytes.put((byte) (v.booleanValue() ? 1 : 0));
        }
        default -> throw DTypes.unsupported(dtype);
      }
      index++;
    }

    private byte[] stringOf(JsonNode v) {
      if (v.isTextual()) {
        return v.textValue().getBytes(StandardCharsets.UTF_8);
      }
      if (isBase64Value(v) && v.get("b64").isTextual()) {
        try {
          return Base64.getDecoder().decode(v.get("b64").textValue());
        } catch (IllegalArgumentException e) {
          throw ServingException.invalid("input '" + alias + "' element " + index + ": invalid base64");
        }
      }
      throw bad(v, "a string or {\"b64\": ...}");
    }

    private Number number(JsonNode v) {
      if (!v.isNumber()) {
        throw bad(v, "a number");
      }
      return v.numberValue();
    }

    /**
     * A JSON number for a float or double input, refused where TensorFlow Serving refuses it as
     * not convertible without loss: an integer literal of more than {@code exactBits} bits (beyond
     * 2^24 - 1 for float, 2^53 - 1 for double; 16777217 would reach the model as 16777216), or a
     * decimal outside the type's finite range (1e39 would become a float infinity). A decimal that
     * only rounds (0.1 has no exact float) is accepted, as there, and so are NaN and the infinities.
     */
    private double lossless(JsonNode v, int exactBits, double max, String type) {
      double d = number(v).doubleValue();
      boolean lossless;
      if (v.isIntegralNumber() && v.canConvertToLong()) {
        long exact = (1L << exactBits) - 1;
        lossless = v.longValue() >= -exact && v.longValue() <= exact;
      } else if (v.isIntegralNumber()) {
        // TF Serving's parser reads an integer as unsigned 64 bits while it fits, as a decimal
        // (range checked only) past that.
        java.math.BigInteger big = v.bigIntegerValue();
        lossless = !(big.signum() > 0 && big.bitLength() <= 64) && Math.abs(d) <= max;
      } else {
        lossless = !Double.isFinite(d) || Math.abs(d) <= max;
      }
      if (!lossless) {
        throw ServingException.invalid("input '" + alias + "' (" + dtype + ") element " + index
            + ": cannot convert JSON value " + abbreviated(v) + " to " + type + " without loss of precision");
      }
      return d;
    }

    private long integer(JsonNode v, long min, long max) {
      if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < min || v.longValue() > max) {
        throw bad(v, "an integer in " + min + ".." + max);
      }
      return v.longValue();
    }

    private ServingException bad(JsonNode v, String expected) {
      return ServingException.invalid("input '" + alias + "' (" + dtype + ") element " + index + ": expected "
          + expected + ", got " + abbreviated(v));
    }

    private static String abbreviated(JsonNode v) {
      String s = v.toString();
      return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    HostTensor build(long[] shape) {
      return dtype == DataType.DT_STRING ? HostTensor.strings(shape, strings)
          : HostTensor.numeric(dtype, shape, bytes.array());
    }
  }
}
