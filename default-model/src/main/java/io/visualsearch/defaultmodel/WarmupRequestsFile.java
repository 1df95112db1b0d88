package io.visualsearch.defaultmodel;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.PredictLog;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictionLog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.tensorflow.EagerSession;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.data.TensorSliceDataset;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TString;

/**
 * A model version's warm-up file, {@value #RELATIVE_PATH} in its directory: TensorFlow Serving's
 * format, a TFRecord file of {@code PredictionLog} records, each a Predict request the server
 * replays when it loads the version, before the version serves. A signature's first run in a fresh
 * session pays for graph optimisation and kernel set-up (0.4–0.7 s for {@code serving_default} on
 * two cores, against 35–50 ms once warmed up); replayed at load, that cost no longer falls on the
 * first shopper's query or the first catalog batch after a rollout. TensorFlow Serving reads the
 * same file, so the model keeps that benefit there.
 */
public final class WarmupRequestsFile {

  /** Where TensorFlow Serving looks for the file, relative to the version directory. */
  public static final String RELATIVE_PATH = "assets.extra/tf_serving_warmup_requests";

  private WarmupRequestsFile() {}

  /**
   * A Predict request of {@code signature} on {@code images}, fed as its input {@code inputAlias}.
   * The model is the one whose directory holds the file, so the request names none.
   */
  public static PredictRequest imagePredict(String signature, String inputAlias, ImageBatch images) {
    TensorProto pixels = TensorProto.newBuilder()
        .setDtype(DataType.DT_UINT8)
        .setTensorShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(images.batch()))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(images.height()))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(images.width()))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(3)))
        .setTensorContent(ByteString.copyFrom(images.pixels()))
        .build();
    return PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setSignatureName(signature))
        .putInputs(inputAlias, pixels)
        .build();
  }

  /**
   * Writes {@code requests} as {@code <versionDir>/}{@value #RELATIVE_PATH}, replacing any file
   * there. The bytes are a function of the requests alone, so a rebuild of the same model writes
   * the same file (the exporter leaves an identical version in place).
   */
  public static Path write(Path versionDir, List<PredictRequest> requests) throws IOException {
    if (requests.isEmpty() || requests.size() > 1000) {
      // TensorFlow Serving refuses a file of more than 1,000 records, and the version with it.
      throw new IllegalArgumentException("a warm-up file holds 1 to 1000 requests, not " + requests.size());
    }
    byte[][] records = new byte[requests.size()][];
    for (int i = 0; i < records.length; i++) {
      records[i] = deterministic(PredictionLog.newBuilder()
          .setPredictLog(PredictLog.newBuilder().setRequest(requests.get(i))).build());
    }
    Path file = versionDir.resolve(RELATIVE_PATH);
    Files.createDirectories(file.getParent());
    Files.deleteIfExists(file);
    // TensorFlow's own TFRecord writer (framing and masked CRC-32C), run eagerly over the records.
    try (EagerSession eager = EagerSession.create();
        TString values = TString.tensorOfBytes(NdArrays.vectorOfObjects(records))) {
      Ops tf = Ops.create(eager);
      TensorSliceDataset dataset = tf.data.tensorSliceDataset(List.of(tf.constantOf(values)), List.of(Shape.scalar()));
      tf.data.datasetToTfRecord(dataset, tf.constant(file.toString()), tf.constant(""));
    }
    return file;
  }

  private static byte[] deterministic(PredictionLog log) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(log.getSerializedSize());
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.useDeterministicSerialization();
    log.writeTo(out);
    out.flush();
    return bytes.toByteArray();
  }
}
