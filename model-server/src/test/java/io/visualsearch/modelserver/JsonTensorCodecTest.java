package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/** JSON numbers into float and double tensors, refused where TensorFlow Serving refuses them as lossy. */
class JsonTensorCodecTest {

  private final JsonTensorCodec codec = new JsonTensorCodec();

  @Test
  void floatsThatWouldLosePrecisionAreRefused() throws Exception {
    // Out of float's range (would become infinities), and integers past 2^24 - 1, TF Serving's bound.
    for (String lossy : new String[] {"1e39", "-1e39", "3.5e38", "16777216", "16777217", "-16777217",
        "9223372036854775807", "18446744073709551615", "1" + "0".repeat(400)}) {
      ServingException e = assertThrows(ServingException.class, () -> decode(lossy, DataType.DT_FLOAT), lossy);
      assertEquals(ServingException.Reason.INVALID_ARGUMENT, e.reason());
      assertTrue(e.getMessage().startsWith("input 'x' (DT_FLOAT) element 0: cannot convert JSON value "), e.getMessage());
      assertTrue(e.getMessage().endsWith(" to float without loss of precision"), e.getMessage());
    }
  }

  @Test
  void floatsThatOnlyRoundAreAcceptedAsBefore() throws Exception {
    // 0.1 has no exact float; TF Serving accepts any decimal within range, as the codec always did.
    for (String ok : new String[] {"0.1", "0.5", "-3.25", "1e-3", "1e-50", "3.4e38", "-3.4e38", "16777215",
        "-16777215", "255", "16777217.0", "1e20", "NaN", "Infinity", "-Infinity",
        // Past 64 bits TF Serving's parser reads an integer as a decimal, so only its range counts.
        "100000000000000000000000"}) {
      float expected = (float) Double.parseDouble(ok);
      assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(decodedFloat(ok)), ok);
    }
    assertEquals(-0.1f, decodedFloat("-0.1"));
  }

  @Test
  void doublesRefuseOnlyIntegersPastTwoToTheFiftyThree() throws Exception {
    for (String lossy : new String[] {"9007199254740992", "9007199254740993", "-9007199254740993"}) {
      ServingException e = assertThrows(ServingException.class, () -> decode(lossy, DataType.DT_DOUBLE), lossy);
      assertTrue(e.getMessage().endsWith(" to double without loss of precision"), e.getMessage());
    }
    for (String ok : new String[] {"9007199254740991", "-9007199254740991", "0.1", "1e308", "1e39", "NaN",
        "-Infinity"}) {
      double expected = Double.parseDouble(ok);
      HostTensor t = decode(ok, DataType.DT_DOUBLE);
      double got = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN).getDouble(0);
      assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(got), ok);
    }
  }

  @Test
  void theRefusalNamesTheElement() {
    ServingException e = assertThrows(ServingException.class, () -> decode("[[0.5, 1], [2, 1e39]]", DataType.DT_FLOAT));
    assertTrue(e.getMessage().startsWith("input 'x' (DT_FLOAT) element 3: cannot convert JSON value 1.0E39"),
        e.getMessage());
  }

  private float decodedFloat(String json) throws Exception {
    HostTensor t = decode(json, DataType.DT_FLOAT);
    return ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN).getFloat(0);
  }

  private HostTensor decode(String json, DataType dtype) throws Exception {
    // The REST API's own parser (it reads bare NaN and infinities).
    JsonNode value = new RestApi(null).mapper().readTree(json);
    return codec.decode("x", value, dtype);
  }
}
