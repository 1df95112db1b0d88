package io.visualsearch.modelserver;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.RawTensor;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.ByteDataBuffer;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TString;

/**
 * Copies between {@link HostTensor} and TensorFlow's native tensors. The caller owns every
 * {@link Tensor} returned by {@link #toNative} and must close it.
 */
final class NativeTensors {

  private NativeTensors() {}

  static Tensor toNative(HostTensor t) {
    Shape shape = Shape.of(t.shape());
    if (t.isString()) {
      List<byte[]> elements = t.stringElements();
      return TString.tensorOfBytes(shape, DataBuffers.ofObjects(elements.toArray(new byte[0][])));
    }
    // Tensor.of copies the buffer into TensorFlow-owned memory; host order equals little-endian.
    return Tensor.of(DTypes.tensorClass(t.dtype()), shape, DataBuffers.of(t.data(), true, false));
  }

  static HostTensor fromNative(Tensor t) {
    long[] shape = t.shape().asArray();
    DataType dtype = t.dataType();
    if (dtype == DataType.DT_STRING) {
      List<byte[]> out = new ArrayList<>((int) t.shape().size());
      ((TString) t).asBytes().scalars().forEach(s -> out.add(s.getObject()));
      return HostTensor.strings(shape, out);
    }
    if (!DTypes.isSupported(dtype)) {
      throw new ServingException(ServingException.Reason.INTERNAL,
          "the model produced a " + dtype + " output, which this server cannot encode");
    }
    RawTensor raw = t.asRawTensor();
    ByteDataBuffer data = raw.data();
    byte[] bytes = new byte[Math.toIntExact(data.size())];
    data.read(bytes);
    return HostTensor.numeric(dtype, shape, bytes);
  }
}
