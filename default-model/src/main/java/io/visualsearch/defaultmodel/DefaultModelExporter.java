package io.visualsearch.defaultmodel;

import io.visualsearch.proto.tfserving.PredictRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.commons.io.FileUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.op.Ops;

/**
 * Builds the default model's graph from a decoded Keras model and writes it as a SavedModel
 * version directory, {@code <baseDir>/<version>/saved_model.pb}, the layout TensorFlow Serving
 * watches.
 *
 * <p>The version is written under a dot-prefixed temporary name, loaded back and run once per
 * signature, and only then renamed into place, so a server polling the base directory never sees
 * a partial or broken version.
 */
public final class DefaultModelExporter {

  private static final Logger log = LoggerFactory.getLogger(DefaultModelExporter.class);

  /** Output width each signature must produce, checked on the freshly written model. */
  private static final Map<String, Integer> OUTPUT_WIDTH =
      Map.of(
          DefaultModelSignatures.SERVING_DEFAULT, 768,
          DefaultModelSignatures.MIXED7, 768,
          DefaultModelSignatures.MIXED10, 2048,
          DefaultModelSignatures.CLASSIFY, DefaultModelSignatures.CLASSES.size());

  /** Writes {@code model} as version {@code version} under {@code baseDir}; returns the version directory. */
  public Path export(KerasModelArtifacts model, Path baseDir, long version) throws IOException {
    if (version < 1) {
      throw new IllegalArgumentException("TensorFlow Serving versions are positive integers, got " + version);
    }
    Files.createDirectories(baseDir);
    Path target = baseDir.resolve(Long.toString(version));
    Path staging = SavedModelVersions.stagingDir(baseDir, version);
    FileUtils.deleteDirectory(staging.toFile());
    try {
      writeSavedModel(model, staging);
      WarmupRequestsFile.write(staging, warmupRequests());
      selfCheck(staging);
      SavedModelVersions.publish(staging, target);
    } finally {
      FileUtils.deleteDirectory(staging.toFile());
    }
    return target;
  }

  private void writeSavedModel(KerasModelArtifacts model, Path dir) throws IOException {
    try (Graph graph = new Graph();
        Session session = new Session(graph)) {
      List<Signature> signatures = new DefaultModelSignatures(Ops.create(graph), model).build();
      SavedModelBundle.Exporter exporter = SavedModelBundle.exporter(dir.toString());
      for (Signature signature : signatures) {
        exporter.withFunction(SessionFunction.create(signature, session));
      }
      exporter.export();
    }
    SavedModelVersions.rewriteDeterministically(dir.resolve("saved_model.pb"));
  }

  /**
   * Requests of the signature the services call, at the size it resizes to: one image, as a
   * shopper's query comes, and eight, as the embeddings-generator batches. The other signatures
   * serve evaluation and benchmarks, which run the model in process; warming them up too took four
   * times as long at every load (3.9 s against 0.9 s on two cores) for requests no service sends.
   */
  static List<PredictRequest> warmupRequests() {
    int side = DefaultModelSignatures.EMBEDDING_SIZE;
    return List.of(
        WarmupRequestsFile.imagePredict(DefaultModelSignatures.SERVING_DEFAULT, DefaultModelSignatures.INPUT,
            SyntheticImages.batch(1, side, side)),
        WarmupRequestsFile.imagePredict(DefaultModelSignatures.SERVING_DEFAULT, DefaultModelSignatures.INPUT,
            SyntheticImages.batch(8, side, side)));
  }

  /** Runs every signature on a small odd-sized batch so a broken graph fails the build, not the server. */
  private void selfCheck(Path dir) {
    ImageBatch probe = SyntheticImages.batch(2, 61, 97);
    try (DefaultModelRunner runner = DefaultModelRunner.load(dir)) {
      for (Map.Entry<String, Integer> expected : OUTPUT_WIDTH.entrySet()) {
        float[][] out = runner.run(expected.getKey(), probe);
        if (out.length != probe.batch() || out[0].length != expected.getValue()) {
          throw new IllegalStateException(
              expected.getKey() + " returned " + out.length + "x" + out[0].length
                  + ", expected " + probe.batch() + "x" + expected.getValue());
        }
        for (float[] row : out) {
          for (float v : row) {
            if (!Float.isFinite(v)) {
              throw new IllegalStateException(expected.getKey() + " returned a non-finite value");
            }
          }
        }
      }
    }
    log.info("self-check passed for signatures {}", OUTPUT_WIDTH.keySet());
  }
}
