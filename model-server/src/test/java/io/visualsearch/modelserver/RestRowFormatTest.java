package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/** Row-format ("predictions") answers are shaped by the outputs alone, as in TensorFlow Serving. */
class RestRowFormatTest {

  private final RestApi api = new RestApi(null);

  @Test
  void outputsThatAgreeWithEachOtherGiveOnePredictionPerRow() {
    // Rows the model answered, not the instances sent: a request of one instance whose model
    // answers two rows (a signature that expands or aggregates) is TF Serving's two predictions.
    Map<String, HostTensor> outputs = new LinkedHashMap<>();
    outputs.put("scores", floats(new long[] {2, 2}, 0.5f, 1.5f, 2.5f, 3.5f));
    outputs.put("ids", longs(new long[] {2}, 7, 8));
    assertEquals("[{\"scores\":[0.5,1.5],\"ids\":7},{\"scores\":[2.5,3.5],\"ids\":8}]",
        api.predictions(outputs).toString());

    assertEquals("[0.5,1.5,2.5]", api.predictions(Map.of("only", floats(new long[] {3}, 0.5f, 1.5f, 2.5f))).toString());
  }

  @Test
  void outputsThatDisagreeOrHaveNoRowsAreRefused() {
    Map<String, HostTensor> outputs = new LinkedHashMap<>();
    outputs.put("scores", floats(new long[] {2}, 0.5f, 1.5f));
    outputs.put("ids", longs(new long[] {3}, 7, 8, 9));
    ServingException e = assertThrows(ServingException.class, () -> api.predictions(outputs));
    assertEquals(ServingException.Reason.INVALID_ARGUMENT, e.reason());
    assertEquals("output 'ids' has shape [3], not one row per instance; use the columnar \"inputs\" format for this"
        + " signature", e.getMessage());

    ServingException scalar = assertThrows(ServingException.class,
        () -> api.predictions(Map.of("total", floats(new long[0], 4f))));
    assertEquals("output 'total' has shape [], not one row per instance; use the columnar \"inputs\" format for"
        + " this signature", scalar.getMessage());
  }

  private static HostTensor floats(long[] shape, float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return HostTensor.numeric(DataType.DT_FLOAT, shape, b.array());
  }

  private static HostTensor longs(long[] shape, long... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long l : v) {
      b.putLong(l);
    }
    return HostTensor.numeric(DataType.DT_INT64, shape, b.array());
  }
}
