package io.visualsearch.modelserver;

import com.google.protobuf.InvalidProtocolBufferException;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictionLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.EagerSession;
import org.tensorflow.Operand;
import org.tensorflow.exceptions.TFOutOfRangeException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.data.AnonymousIterator;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/**
 * Replays a version's warm-up requests before it serves, as TensorFlow Serving does: the file
 * {@value #RELATIVE_PATH} in the version directory, a TFRecord file of {@code PredictionLog}
 * records, at most {@value #MAX_RECORDS}. A signature's first run in a fresh session optimises the
 * graph and sets up kernels (364 ms for a 640×480 image on the default model's
 * {@code serving_default} on two cores, ten times the 35 ms of a run after); without a warm-up the
 * first requests after every load, a rollout's included, pay it and can outlast their clients'
 * deadlines.
 *
 * <p>A version without the file loads as before. Records of the request kinds this server does not
 * answer (Classify, Regress, MultiInference: never asked here) are skipped. A version whose file
 * cannot be read or whose Predict request fails does not load (the previous version keeps serving):
 * like TensorFlow Serving, a model that cannot answer its own sample requests is not served.
 */
final class VersionWarmup {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(VersionWarmup.class);

  static final String RELATIVE_PATH = "assets.extra/tf_serving_warmup_requests";
  static final int MAX_RECORDS = 1000;
  /** Largest a warm-up request's inputs may take decoded: the file is trusted, the heap is not endless. */
  private static final long MAX_REQUEST_BYTES = 256L << 20;
  /** Largest warm-up file read: its records are held on the heap, twice, while parsed. */
  static final long MAX_FILE_BYTES = 512L << 20;

  /** Why a version's warm-up failed; the version is not served. */
  static final class WarmupFailedException extends Exception {
    WarmupFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final TensorProtoCodec codec = new TensorProtoCodec(MAX_REQUEST_BYTES);

  /** Runs the version's warm-up requests, if it has any; returns how many ran. */
  int warm(ServableVersion version, Path versionDir) throws WarmupFailedException {
    Path file = versionDir.resolve(RELATIVE_PATH);
    if (!Files.isRegularFile(file)) {
      return 0;
    }
    List<PredictRequest> requests = read(file);
    for (int i = 0; i < requests.size(); i++) {
      PredictRequest request = requests.get(i);
      String signatureName = ModelServingService.signatureName(request.getModelSpec());
      try {
        SignatureSpec signature = version.signature(signatureName);
        Map<String, HostTensor> inputs = codec.decodeInputs(request.getInputsMap());
        version.run(signature, inputs, signature.validate(inputs, request.getOutputFilterList()));
      } catch (ServingException e) {
        throw new WarmupFailedException("warm-up request " + (i + 1) + " of " + requests.size() + " (signature '"
            + signatureName + "') failed: " + e.getMessage(), e);
      }
    }
    return requests.size();
  }

  /**
   * The file's Predict requests, in order; records of other kinds are skipped. Refuses a file
   * TensorFlow Serving would refuse (unreadable, empty, over 1,000 records), and one too large to
   * hold.
   */
  static List<PredictRequest> read(Path file) throws WarmupFailedException {
    long size;
    try {
      size = Files.size(file);
    } catch (java.io.IOException e) {
      throw new WarmupFailedException(file + " cannot be read: " + e, e);
    }
    if (size > MAX_FILE_BYTES) {
      throw new WarmupFailedException(file + " is " + size + " bytes, more than the " + MAX_FILE_BYTES
          + " this server reads", null);
    }
    List<byte[]> records = records(file);
    if (records.isEmpty()) {
      throw new WarmupFailedException(file + " holds no record", null);
    }
    List<PredictRequest> requests = new ArrayList<>();
    int skipped = 0;
    for (int i = 0; i < records.size(); i++) {
      PredictionLog entry;
      try {
        entry = PredictionLog.parseFrom(records.get(i));
      } catch (InvalidProtocolBufferException e) {
        throw new WarmupFailedException(file + ": record " + (i + 1) + " is not a PredictionLog: " + e.getMessage(), e);
      }
      if (entry.hasPredictLog()) {
        requests.add(entry.getPredictLog().getRequest());
      } else {
        skipped++;
      }
    }
    if (skipped > 0) {
      log.info("{}: {} of {} records skipped, of kinds this server does not answer (Classify, Regress,"
          + " MultiInference)", file, skipped, records.size());
    }
    return requests;
  }

  /** The records of a TFRecord file, CRCs checked by TensorFlow's own reader. */
  private static List<byte[]> records(Path file) throws WarmupFailedException {
    List<byte[]> records = new ArrayList<>();
    List<Class<? extends TType>> types = List.of(TString.class);
    List<Shape> shapes = List.of(Shape.scalar());
    try (EagerSession eager = EagerSession.create()) {
      Ops tf = Ops.create(eager);
      // The first TFRecordDataset op, built by name: TensorFlow Java's wrapper builds the second,
      // whose byte_offsets input TensorFlow 2.18 drops when it serialises the dataset for the
      // iterator ("3 inputs specified of 4").
      Operand<TType> dataset = eager.opBuilder("TFRecordDataset", "warmup_requests", tf.scope())
          .addInput(tf.constant(StandardCharsets.UTF_8, new String[] {file.toString()}).asOutput())
          .addInput(tf.constant("").asOutput())
          .addInput(tf.constant(0L).asOutput())
          .build().output(0);
      AnonymousIterator iterator = tf.data.anonymousIterator(types, shapes);
      tf.data.makeIterator(dataset, iterator);
      while (true) {
        try (TString record = (TString) tf.data.iteratorGetNext(iterator, types, shapes).components().get(0).asTensor()) {
          if (records.size() == MAX_RECORDS) {
            throw new WarmupFailedException(file + " holds more than " + MAX_RECORDS + " records", null);
          }
          records.add(record.asBytes().getObject());
        } catch (TFOutOfRangeException end) {
          return records;
        }
      }
    } catch (RuntimeException e) {
      // TensorFlow's exceptions for a corrupt or truncated record (DATA_LOSS) and the like.
      throw new WarmupFailedException(file + " is not a readable TFRecord file: " + e.getMessage(), e);
    }
  }
}
