package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.defaultmodel.ImageBatch;
import io.visualsearch.defaultmodel.WarmupRequestsFile;
import io.visualsearch.modelserver.VersionStatusBook.State;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.PredictLog;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictionLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.EagerSession;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TString;

/**
 * Warm-up files in TensorFlow Serving's format on real SavedModels: a version is served only once
 * its own sample requests ran, and a file the server cannot honour keeps the version out with a
 * status saying why, while the version before it keeps serving.
 */
class VersionWarmupTest {

  private static final Duration NEVER = Duration.ofHours(1);

  @TempDir
  Path base;

  @Test
  void aVersionWhoseRequestsRunIsServed() throws Exception {
    Path v1 = TestSavedModels.exportVersion(base, "default", 1);
    WarmupRequestsFile.write(v1, List.of(imageRequest("serving_default"), imageRequest("")));
    assertEquals(2, VersionWarmup.read(v1.resolve(VersionWarmup.RELATIVE_PATH)).size());
    try (ModelManager m = new ModelManager("default", base, OptionalLong.empty(), NEVER)) {
      m.start();
      assertEquals(State.AVAILABLE, stateOf(m, 1));
    }
  }

  @Test
  void aFailingRequestKeepsTheVersionOutAndThePreviousOneServing() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    try (ModelManager m = new ModelManager("default", base, OptionalLong.empty(), NEVER)) {
      m.start();
      Path v2 = TestSavedModels.exportVersion(base, "default", 2);
      TensorProto floats = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(1, 4, 4, 3)).addFloatVal(0.5f)
          .build();
      WarmupRequestsFile.write(v2, List.of(imageRequest("serving_default"),
          PredictRequest.newBuilder().putInputs("image", floats).build()));
      m.scan();

      assertEquals(State.END, stateOf(m, 2));
      assertEquals("warm-up request 2 of 2 (signature 'serving_default') failed: input 'image' expects DT_UINT8"
          + " but got DT_FLOAT", errorOf(m, 2));
      try (ServableVersion.Lease lease = m.acquire("default", OptionalLong.empty())) {
        assertEquals(1, lease.version().version(), "the version before keeps serving");
      }
    }
  }

  @Test
  void anUnknownSignatureIsNamed() throws Exception {
    Path v1 = TestSavedModels.exportVersion(base, "default", 1);
    WarmupRequestsFile.write(v1, List.of(imageRequest("mixed7")));
    try (ModelManager m = new ModelManager("default", base, OptionalLong.empty(), NEVER)) {
      m.start();
      assertEquals(State.END, stateOf(m, 1));
      assertTrue(errorOf(m, 1).startsWith("warm-up request 1 of 1 (signature 'mixed7') failed: signature 'mixed7' not"
          + " found"), errorOf(m, 1));
      assertFalse(m.check().ok(), "nothing is served");
    }
  }

  @Test
  void recordsOfKindsThisServerDoesNotAnswerAreSkipped() throws Exception {
    Path file = base.resolve("requests");
    // A PredictionLog holding a classify_log (field 2): this server is never asked to Classify.
    byte[] classify = {0x12, 0x00};
    writeRecords(file, List.of(classify, log(imageRequest("serving_default")), classify));
    List<PredictRequest> requests = VersionWarmup.read(file);
    assertEquals(1, requests.size());
    assertEquals("serving_default", requests.get(0).getModelSpec().getSignatureName());
  }

  @Test
  void aFileTooLargeToHoldIsRefused() throws Exception {
    Path file = base.resolve("requests");
    try (java.io.RandomAccessFile sparse = new java.io.RandomAccessFile(file.toFile(), "rw")) {
      sparse.setLength(VersionWarmup.MAX_FILE_BYTES + 1);
    }
    VersionWarmup.WarmupFailedException e = assertThrows(VersionWarmup.WarmupFailedException.class,
        () -> VersionWarmup.read(file));
    assertEquals(file + " is 536870913 bytes, more than the 536870912 this server reads", e.getMessage());
  }

  @Test
  void aCorruptRecordIsRefused() throws Exception {
    Path file = base.resolve("requests");
    writeRecords(file, List.of(log(imageRequest("serving_default"))));
    byte[] bytes = Files.readAllBytes(file);
    bytes[20] ^= 1; // inside the record's data: its CRC no longer matches
    Files.write(file, bytes);
    VersionWarmup.WarmupFailedException e = assertThrows(VersionWarmup.WarmupFailedException.class,
        () -> VersionWarmup.read(file));
    assertTrue(e.getMessage().startsWith(file + " is not a readable TFRecord file: "), e.getMessage());
  }

  @Test
  void moreRecordsThanTensorFlowServingReadsAreRefused() throws Exception {
    Path file = base.resolve("requests");
    byte[] one = log(PredictRequest.getDefaultInstance());
    writeRecords(file, new ArrayList<>(Collections.nCopies(VersionWarmup.MAX_RECORDS, one)));
    assertEquals(VersionWarmup.MAX_RECORDS, VersionWarmup.read(file).size());
    writeRecords(file, new ArrayList<>(Collections.nCopies(VersionWarmup.MAX_RECORDS + 1, one)));
    VersionWarmup.WarmupFailedException e = assertThrows(VersionWarmup.WarmupFailedException.class,
        () -> VersionWarmup.read(file));
    assertEquals(file + " holds more than 1000 records", e.getMessage());
  }

  @Test
  void anEmptyFileIsRefused() throws Exception {
    Path file = Files.createFile(base.resolve("requests"));
    VersionWarmup.WarmupFailedException e = assertThrows(VersionWarmup.WarmupFailedException.class,
        () -> VersionWarmup.read(file));
    assertEquals(file + " holds no record", e.getMessage());
  }

  private static PredictRequest imageRequest(String signature) {
    PredictRequest request = WarmupRequestsFile.imagePredict(signature, "image",
        new ImageBatch(TestSavedModels.image(7, 12, 10), 1, 12, 10));
    return signature.isEmpty() ? request.toBuilder().setModelSpec(ModelSpec.getDefaultInstance()).build() : request;
  }

  private static byte[] log(PredictRequest request) {
    return PredictionLog.newBuilder().setPredictLog(PredictLog.newBuilder().setRequest(request)).build().toByteArray();
  }

  private static TensorShapeProto shape(long... dims) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    for (long d : dims) {
      b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return b.build();
  }

  /** Raw records through TensorFlow's TFRecord writer, for records the product would never write. */
  private static void writeRecords(Path file, List<byte[]> records) throws Exception {
    Files.deleteIfExists(file);
    try (EagerSession eager = EagerSession.create();
        TString values = TString.tensorOfBytes(NdArrays.vectorOfObjects(records.toArray(new byte[0][])))) {
      Ops tf = Ops.create(eager);
      tf.data.datasetToTfRecord(tf.data.tensorSliceDataset(List.of(tf.constantOf(values)), List.of(Shape.scalar())),
          tf.constant(file.toString()), tf.constant(""));
    }
  }

  private static State stateOf(ModelManager m, long version) {
    return m.statuses().stream().filter(e -> e.version() == version).findFirst().orElseThrow().state();
  }

  private static String errorOf(ModelManager m, long version) {
    return m.statuses().stream().filter(e -> e.version() == version).findFirst().orElseThrow().error();
  }
}
