package io.visualsearch.modelserver;

import java.util.Arrays;
import java.util.stream.Collectors;
import org.tensorflow.proto.TensorShapeProto;

/** Shapes as TensorFlow prints them in errors: {@code [?,224,224,3]}. */
final class ShapeText {

  private ShapeText() {}

  static String of(long[] dims) {
    return Arrays.stream(dims).mapToObj(d -> d < 0 ? "?" : Long.toString(d)).collect(Collectors.joining(",", "[", "]"));
  }

  static String of(TensorShapeProto shape) {
    if (shape.getUnknownRank()) {
      return "<unknown rank>";
    }
    return of(shape.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray());
  }
}
