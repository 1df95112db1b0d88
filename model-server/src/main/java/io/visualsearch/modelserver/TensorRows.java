package io.visualsearch.modelserver;

import java.util.ArrayList;
import java.util.List;

/** Row-wise (first dimension) concatenation and slicing of host tensors, for batching. */
final class TensorRows {

  private TensorRows() {}

  /** Joins tensors that agree on dtype and on every dimension but the first. */
  static HostTensor concat(List<HostTensor> parts) {
    HostTensor first = parts.get(0);
    if (parts.size() == 1) {
      return first;
    }
    long[] shape = first.shape();
    long rows = 0;
    for (HostTensor p : parts) {
      rows += p.dim(0);
    }
    shape[0] = rows;
    if (first.isString()) {
      List<byte[]> all = new ArrayList<>();
      parts.forEach(p -> all.addAll(p.stringElements()));
      return HostTensor.strings(shape, all);
    }
    int size = 0;
    for (HostTensor p : parts) {
      size = Math.addExact(size, p.data().length);
    }
    byte[] data = new byte[size];
    int at = 0;
    for (HostTensor p : parts) {
      System.arraycopy(p.data(), 0, data, at, p.data().length);
      at += p.data().length;
    }
    return HostTensor.numeric(first.dtype(), shape, data);
  }

  /** Rows {@code [from, from + count)} of {@code t}. */
  static HostTensor slice(HostTensor t, long from, long count) {
    long[] shape = t.shape();
    long rowElements = HostTensor.elementCount(t.rowShape());
    shape[0] = count;
    if (t.isString()) {
      int start = Math.toIntExact(from * rowElements);
      int end = Math.toIntExact((from + count) * rowElements);
      return HostTensor.strings(shape, t.stringElements().subList(start, end));
    }
    int rowBytes = Math.toIntExact(rowElements * DTypes.byteSize(t.dtype()));
    byte[] data = new byte[Math.toIntExact(count * rowBytes)];
    System.arraycopy(t.data(), Math.toIntExact(from * rowBytes), data, 0, data.length);
    return HostTensor.numeric(t.dtype(), shape, data);
  }
}
