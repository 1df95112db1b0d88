package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Tensor;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

class TensorProtoCodecTest {

  private final TensorProtoCodec codec = new TensorProtoCodec(64 << 20);

  @Test
  void oneValueForAHugeTensorIsRefusedBeforeAnythingIsAllocated() {
    // A request of a few bytes: the shorthand would fill 2 GB of floats, or 2^31 string references.
    TensorProto floats = proto(DataType.DT_FLOAT, 500_000_000).addFloatVal(1f).build();
    ServingException e = assertThrows(ServingException.class, () -> codec.decode("images", floats));
    assertTrue(e.getMessage().contains("2000000000 bytes"), e.getMessage());
    TensorProto strings = proto(DataType.DT_STRING, Integer.MAX_VALUE).addStringVal(ByteString.copyFromUtf8("x"))
        .build();
    assertThrows(ServingException.class, () -> codec.decode("images", strings));
    // Within the limit the shorthand still works.
    assertEquals(1 << 20, codec.decode("images", proto(DataType.DT_FLOAT, 1 << 18).addFloatVal(2f).build())
        .data().length);
  }

  @Test
  void theInputsOfOneRequestShareOneLimit() {
    // Each input alone is within the limit; forty of them, a few bytes each on the wire, are not.
    TensorProtoCodec small = new TensorProtoCodec(1 << 20);
    TensorProtoCodec.RequestBudget request = small.requestBudget();
    TensorProto quarter = proto(DataType.DT_UINT8, 1 << 18).addIntVal(0).build();
    for (int i = 0; i < 4; i++) {
      small.decode("a" + i, quarter, request);
    }
    ServingException e = assertThrows(ServingException.class, () -> small.decode("a4", quarter, request));
    assertEquals(ServingException.Reason.INVALID_ARGUMENT, e.reason());
    assertTrue(e.getMessage().contains("'a4'") && e.getMessage().contains("together"), e.getMessage());
    assertEquals(1 << 18, small.decode("alone", quarter).data().length, "another request has its own budget");
  }

  @Test
  void moreDimensionsThanTensorFlowAllowsAreRefusedNotPassedOn() {
    // TensorFlow aborts the process on a shape of more than 254 dimensions.
    TensorProto deep = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorProtoCodec.shapeProto(new long[255])).build();
    assertInvalid(deep, "255 dimensions");
    assertEquals(254, codec.decode("x", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorProtoCodec.shapeProto(new long[254])).build()).shape().length);
  }

  @Test
  void aStringTensorCountsTheHeapOfEachElement() {
    HostTensor strings = codec.decode("x", proto(DataType.DT_STRING, 1000).addStringVal(ByteString.copyFromUtf8("x"))
        .build());
    assertEquals(1000 * (1 + HostTensor.STRING_ELEMENT_OVERHEAD), strings.byteSize());
  }

  @Test
  void typedFieldsAndTensorContentDecodeToTheSameTensor() {
    ByteBuffer f = le(8);
    f.putFloat(1.5f).putFloat(-2f);
    assertSame(proto(DataType.DT_FLOAT, 2).addFloatVal(1.5f).addFloatVal(-2f), f, DataType.DT_FLOAT);

    ByteBuffer i32 = le(8);
    i32.putInt(7).putInt(-9);
    assertSame(proto(DataType.DT_INT32, 2).addIntVal(7).addIntVal(-9), i32, DataType.DT_INT32);

    ByteBuffer i64 = le(16);
    i64.putLong(1L << 40).putLong(-3);
    assertSame(proto(DataType.DT_INT64, 2).addInt64Val(1L << 40).addInt64Val(-3), i64, DataType.DT_INT64);

    ByteBuffer u8 = le(2);
    u8.put((byte) 255).put((byte) 0);
    assertSame(proto(DataType.DT_UINT8, 2).addIntVal(255).addIntVal(0), u8, DataType.DT_UINT8);
  }

  @Test
  void stringsKeepArbitraryBytes() {
    byte[] binary = {(byte) 0xff, 0, 1};
    HostTensor t = codec.decode("s", proto(DataType.DT_STRING, 2)
        .addStringVal(ByteString.copyFromUtf8("héllo")).addStringVal(ByteString.copyFrom(binary)).build());
    assertArrayEquals("héllo".getBytes(StandardCharsets.UTF_8), t.stringElements().get(0));
    assertArrayEquals(binary, t.stringElements().get(1));
    assertEquals(t.stringElements().size(), codec.decode("s", codec.encode(t)).stringElements().size());
  }

  @Test
  void oneValueFillsTheTensorButAShortListIsRefused() {
    HostTensor filled = codec.decode("x", proto(DataType.DT_INT32, 3).addIntVal(4).build());
    ByteBuffer expected = le(12);
    expected.putInt(4).putInt(4).putInt(4);
    assertArrayEquals(expected.array(), filled.data());

    ServingException e = assertThrows(ServingException.class,
        () -> codec.decode("x", proto(DataType.DT_INT32, 3).addIntVal(1).addIntVal(2).build()));
    assertEquals(ServingException.Reason.INVALID_ARGUMENT, e.reason());
    assertTrue(e.getMessage().contains("'x'"), e.getMessage());
  }

  @Test
  void malformedTensorsAreInvalidArguments() {
    assertInvalid(proto(DataType.DT_UINT8, 1).addIntVal(256).build(), "outside 0..255");
    assertInvalid(proto(DataType.DT_FLOAT, 2).setTensorContent(ByteString.copyFrom(new byte[7])).build(), "needs 8");
    assertInvalid(proto(DataType.DT_COMPLEX64, 1).build(), "not supported");
    assertInvalid(TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorProtoCodec.shapeProto(new long[] {-1})).build(), "fully defined");
  }

  @Test
  void encodingRoundTripsThroughTensorFlowsNativeTensors() {
    ByteBuffer f = le(24);
    for (int i = 0; i < 6; i++) {
      f.putFloat(i * 0.25f);
    }
    HostTensor host = HostTensor.numeric(DataType.DT_FLOAT, new long[] {2, 3}, f.array());
    try (Tensor t = NativeTensors.toNative(host)) {
      HostTensor back = NativeTensors.fromNative(t);
      assertArrayEquals(new long[] {2, 3}, back.shape());
      assertArrayEquals(host.data(), back.data());
      assertEquals(codec.encode(host), codec.encode(back));
    }
    HostTensor s = HostTensor.strings(new long[] {2}, List.of(new byte[] {1, 2}, new byte[0]));
    try (Tensor t = NativeTensors.toNative(s)) {
      HostTensor back = NativeTensors.fromNative(t);
      assertArrayEquals(new byte[] {1, 2}, back.stringElements().get(0));
      assertEquals(0, back.stringElements().get(1).length);
    }
  }

  @Test
  void outputsAreInTheTypedFieldsTensorFlowServingAnswersWith() {
    ByteBuffer f = le(8);
    f.putFloat(1.5f).putFloat(-2f);
    assertEquals(List.of(1.5f, -2f), encode(DataType.DT_FLOAT, f).getFloatValList());
    ByteBuffer d = le(16);
    d.putDouble(0.1).putDouble(-3);
    assertEquals(List.of(0.1, -3.0), encode(DataType.DT_DOUBLE, d).getDoubleValList());
    ByteBuffer i32 = le(8);
    i32.putInt(7).putInt(-9);
    assertEquals(List.of(7, -9), encode(DataType.DT_INT32, i32).getIntValList());
    ByteBuffer i64 = le(16);
    i64.putLong(1L << 40).putLong(-3);
    assertEquals(List.of(1L << 40, -3L), encode(DataType.DT_INT64, i64).getInt64ValList());
    ByteBuffer u8 = le(2);
    u8.put((byte) 255).put((byte) 0);
    assertEquals(List.of(255, 0), encode(DataType.DT_UINT8, u8).getIntValList(), "uint8 values unsigned, in int_val");
    ByteBuffer bools = le(2);
    bools.put((byte) 1).put((byte) 0);
    assertEquals(List.of(true, false), encode(DataType.DT_BOOL, bools).getBoolValList());
  }

  private TensorProto encode(DataType dtype, ByteBuffer content) {
    HostTensor t = HostTensor.numeric(dtype, new long[] {2}, content.array());
    TensorProto p = codec.encode(t);
    assertTrue(p.getTensorContent().isEmpty(), dtype.toString());
    assertArrayEquals(t.data(), codec.decode("x", p).data(), "decodes back to the same tensor");
    return p;
  }

  private void assertSame(TensorProto.Builder typed, ByteBuffer content, DataType dtype) {
    HostTensor a = codec.decode("x", typed.build());
    HostTensor b = codec.decode("x", typed.clone().clearFloatVal().clearIntVal().clearInt64Val()
        .setTensorContent(ByteString.copyFrom(content.array())).build());
    assertEquals(dtype, a.dtype());
    assertArrayEquals(content.array(), a.data());
    assertArrayEquals(a.data(), b.data());
    assertArrayEquals(a.shape(), b.shape());
  }

  private void assertInvalid(TensorProto p, String fragment) {
    ServingException e = assertThrows(ServingException.class, () -> codec.decode("x", p));
    assertEquals(ServingException.Reason.INVALID_ARGUMENT, e.reason());
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
  }

  private static TensorProto.Builder proto(DataType dtype, long n) {
    return TensorProto.newBuilder().setDtype(dtype).setTensorShape(TensorProtoCodec.shapeProto(new long[] {n}));
  }

  private static ByteBuffer le(int n) {
    return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
  }
}
