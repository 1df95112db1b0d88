package io.visualsearch.modelserver;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * One SignatureDef of a loaded version, checked once at load: which aliases map to which graph
 * tensors, and whether requests through it can be merged along the first dimension.
 */
final class SignatureSpec {

  private final String key;
  private final Map<String, TensorInfo> inputs;
  private final Map<String, TensorInfo> outputs;
  private final boolean batchable;

  SignatureSpec(String key, SignatureDef def) {
    this.key = key;
    this.inputs = new LinkedHashMap<>(def.getInputsMap());
    this.outputs = new LinkedHashMap<>(def.getOutputsMap());
    // Merging requests is only sound when every tensor in and out has a free leading (batch)
    // dimension; anything else (scalars, fixed batch, sparse) runs one request at a time.
    this.batchable = !inputs.isEmpty() && !outputs.isEmpty()
        && inputs.values().stream().allMatch(SignatureSpec::hasFreeBatchDim)
        && outputs.values().stream().allMatch(SignatureSpec::hasFreeBatchDim);
  }

  String key() {
    return key;
  }

  boolean batchable() {
    return batchable;
  }

  TensorInfo input(String alias) {
    return inputs.get(alias);
  }

  TensorInfo output(String alias) {
    return outputs.get(alias);
  }

  Set<String> inputAliases() {
    return inputs.keySet();
  }

  Set<String> outputAliases() {
    return outputs.keySet();
  }

  /**
   * Checks a request's inputs against the signature (every input present, nothing extra, dtype
   * and every known dimension equal) and resolves the output filter. Returns the outputs to fetch.
   */
  List<String> validate(Map<String, HostTensor> given, List<String> outputFilter) {
    if (!given.keySet().equals(inputs.keySet())) {
      Set<String> missing = new TreeSet<>(inputs.keySet());
      missing.removeAll(given.keySet());
      Set<String> extra = new TreeSet<>(given.keySet());
      extra.removeAll(inputs.keySet());
      throw ServingException.invalid("signature '" + key + "' takes inputs " + new TreeSet<>(inputs.keySet())
          + (missing.isEmpty() ? "" : "; missing " + missing) + (extra.isEmpty() ? "" : "; unknown " + extra));
    }
    Long batch = null;
    for (Map.Entry<String, HostTensor> e : given.entrySet()) {
      TensorInfo info = inputs.get(e.getKey());
      HostTensor t = e.getValue();
      if (info.getEncodingCase() != TensorInfo.EncodingCase.NAME) {
        throw new ServingException(ServingException.Reason.FAILED_PRECONDITION,
            "input '" + e.getKey() + "' of signature '" + key + "' is not a dense tensor; this server feeds only dense inputs");
      }
      if (t.dtype() != info.getDtype()) {
        throw ServingException.invalid("input '" + e.getKey() + "' expects " + info.getDtype() + " but got " + t.dtype());
      }
      checkShape(e.getKey(), info.getTensorShape(), t.shape());
      if (batchable) {
        if (batch != null && batch != t.dim(0)) {
          throw ServingException.invalid("inputs disagree on the batch size (first dimension): " + batch + " vs "
              + t.dim(0) + " for '" + e.getKey() + "'");
        }
        batch = t.dim(0);
      }
    }
    if (outputFilter.isEmpty()) {
      return new ArrayList<>(outputs.keySet());
    }
    List<String> wanted = new ArrayList<>();
    for (String alias : outputFilter) {
      if (!outputs.containsKey(alias)) {
        throw ServingException.invalid("output_filter names '" + alias + "', not an output of signature '" + key
            + "' (outputs: " + new TreeSet<>(outputs.keySet()) + ")");
      }
      if (wanted.contains(alias)) {
        throw ServingException.invalid("output_filter names '" + alias + "' twice");
      }
      wanted.add(alias);
    }
    return wanted;
  }

  private void checkShape(String alias, TensorShapeProto expected, long[] actual) {
    if (expected.getUnknownRank()) {
      return;
    }
    boolean ok = expected.getDimCount() == actual.length;
    for (int i = 0; ok && i < actual.length; i++) {
      long d = expected.getDim(i).getSize();
      ok = d < 0 || d == actual[i];
    }
    if (!ok) {
      throw ServingException.invalid("input '" + alias + "' of signature '" + key + "' expects shape "
          + ShapeText.of(expected) + " but got " + ShapeText.of(actual));
    }
  }

  private static boolean hasFreeBatchDim(TensorInfo info) {
    TensorShapeProto s = info.getTensorShape();
    return info.getEncodingCase() == TensorInfo.EncodingCase.NAME
        && !s.getUnknownRank() && s.getDimCount() >= 1 && s.getDim(0).getSize() < 0;
  }
}
