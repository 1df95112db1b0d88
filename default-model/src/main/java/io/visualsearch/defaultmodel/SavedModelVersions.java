package io.visualsearch.defaultmodel;

import com.google.protobuf.CodedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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

  /**
   * Renames {@code staging} to {@code target}, replacing (and then deleting) an older copy, unless
   * that copy holds the same files byte for byte (a rebuild of the same model): a model server
   * polling the base directory, the demo's beside a build, saw the version leave and come back and
   * unloaded it in between. Staging and retired copies left by killed exports go first.
   */
  public static void publish(Path staging, Path target) throws IOException {
    removeLeftovers(target.getParent());
    if (Files.isDirectory(target) && sameFiles(staging, target)) {
      FileUtils.deleteDirectory(staging.toFile());
      return;
    }
    Path retired = target.resolveSibling("." + target.getFileName() + ".retired-" + ProcessHandle.current().pid());
    if (Files.exists(target)) {
      Files.move(target, retired, StandardCopyOption.ATOMIC_MOVE);
    }
    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    FileUtils.deleteDirectory(retired.toFile());
  }

  private static final Pattern LEFTOVER = Pattern.compile("\\.\\d+\\.(staging|retired)-(\\d+)");

  /** Staging and retired copies whose process is gone (an export killed mid-way): ~23 MB each. */
  static void removeLeftovers(Path baseDir) throws IOException {
    if (!Files.isDirectory(baseDir)) {
      return;
    }
    try (Stream<Path> entries = Files.list(baseDir)) {
      for (Path entry : entries.toList()) {
        Matcher m = LEFTOVER.matcher(entry.getFileName().toString());
        if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(2))).isEmpty()) {
          FileUtils.deleteDirectory(entry.toFile());
        }
      }
    }
  }

  /** Whether both directories hold the same relative paths with the same bytes. */
  static boolean sameFiles(Path a, Path b) throws IOException {
    List<Path> filesA = relativeFiles(a);
    if (!filesA.equals(relativeFiles(b))) {
      return false;
    }
    for (Path f : filesA) {
      if (Files.mismatch(a.resolve(f), b.resolve(f)) != -1) {
        return false;
      }
    }
    return true;
  }

  private static List<Path> relativeFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).map(dir::relativize).sorted().toList();
    }
  }
}
