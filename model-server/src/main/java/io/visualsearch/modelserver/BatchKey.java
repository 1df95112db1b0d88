package io.visualsearch.modelserver;

import java.util.List;
import org.tensorflow.proto.DataType;

/**
 * What requests must share to run as one TensorFlow call: the same loaded version (identity),
 * signature, requested outputs, and per input the dtype and every dimension but the first.
 * {@code mergeable} is false when the signature has no free batch dimension; such requests still
 * queue (for the concurrency bound) but always run alone. {@code interactive} requests (a shopper
 * waits on them) queue apart from catalog work and run first: merged into a bulk batch of 32, a
 * query would wait for the whole batch's run.
 */
record BatchKey(ServableVersion version, SignatureSpec signature, List<String> outputs, List<InputLayout> inputs,
    boolean mergeable, boolean interactive) {

  BatchKey(ServableVersion version, SignatureSpec signature, List<String> outputs, List<InputLayout> inputs,
      boolean mergeable) {
    this(version, signature, outputs, inputs, mergeable, false);
  }

  /** The signature's key for spans and metrics (keys built without a signature say so). */
  String signatureName() {
    return signature == null ? "unknown" : signature.key();
  }

  record InputLayout(String alias, DataType dtype, List<Long> rowShape) {}
}
