package io.visualsearch.modelserver;

import java.util.Map;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TUint8;
import org.tensorflow.types.family.TType;

/** The tensor element types this server converts, with their sizes and TensorFlow Java classes. */
final class DTypes {

  private static final Map<DataType, Class<? extends TType>> NUMERIC = Map.of(
      DataType.DT_FLOAT, TFloat32.class,
      DataType.DT_DOUBLE, TFloat64.class,
      DataType.DT_INT32, TInt32.class,
      DataType.DT_INT64, TInt64.class,
      DataType.DT_UINT8, TUint8.class,
      DataType.DT_BOOL, TBool.class);

  private DTypes() {}

  static boolean isSupported(DataType dtype) {
    return dtype == DataType.DT_STRING || NUMERIC.containsKey(dtype);
  }

  static Class<? extends TType> tensorClass(DataType dtype) {
    Class<? extends TType> c = NUMERIC.get(dtype);
    if (c == null) {
      throw unsupported(dtype);
    }
    return c;
  }

  static int byteSize(DataType dtype) {
    return switch (dtype) {
      case DT_FLOAT, DT_INT32 -> 4;
      case DT_DOUBLE, DT_INT64 -> 8;
      case DT_UINT8, DT_BOOL -> 1;
      default -> throw unsupported(dtype);
    };
  }

  static ServingException unsupported(DataType dtype) {
    return ServingException.invalid("tensor type " + dtype + " is not supported by this server "
        + "(supported: DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64, DT_UINT8, DT_BOOL, DT_STRING)");
  }
}
