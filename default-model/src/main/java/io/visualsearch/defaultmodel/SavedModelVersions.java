package io.visualsearch.defaultmodel;

import com.google.protobuf.CodedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.commons.io.FileUtils;
import org.tensorflow.proto.SavedModel;

/**
 * How a model version reaches a TensorFlow Serving base directory without a polling server ever
 * seeing it half-written: write it under a dot-prefixed staging name beside its final place, check
 * it, then rename it into place. Shared by every exporter of the project's models (the default
 * model here, fine-tuned versions in module evaluation).
 */
public final class SavedModelVersions {

  private SavedModelVersions() {}

  /** A staging directory for {@code version} under {@code baseDir}, private to this process. */
  public static Path stagingDir(Path baseDir, long version) {
    return baseDir.resolve("." + version + ".staging-" + ProcessHandle.current().pid());
  }

  /**
   * Protobuf writes map fields (the signature map) in hash order, so two exports of the same model
   * would differ in bytes. Sorted re-serialisation makes the file a pure function of the model, so
   * its digest can identify the model version.
   */
  public static void rewriteDeterministically(Path savedModelPb) throws IOException {
    SavedModel savedModel = SavedModel.parseFrom(Files.readAllBytes(savedModelPb));
    try (OutputStream file = Files.newOutputStream(savedModelPb)) {
      CodedOutputStream out = CodedOutputStream.newInstance(file);
      out.useDeterministicSerialization();
      savedModel.writeTo(out);
      out.flush();
    }
  }

  /** Renames {@code staging} to {@code target}, replacing (and then deleting) an older copy. */
  public static void publish(Path staging, Path target) throws IOException {
    Path retired = target.resolveSibling("." + target.getFileName() + ".retired-" + ProcessHandle.current().pid());
    if (Files.exists(target)) {
      Files.move(target, retired, StandardCopyOption.ATOMIC_MOVE);
    }
    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    FileUtils.deleteDirectory(retired.toFile());
  }
}
