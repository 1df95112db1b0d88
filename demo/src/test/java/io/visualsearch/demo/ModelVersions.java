package io.visualsearch.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** Publishes SavedModel versions the way a training job must: copied aside, renamed into place. */
final class ModelVersions {

  private ModelVersions() {}

  static void copy(Path versionDir, Path modelDir, long version) throws IOException {
    Path staging = modelDir.resolve(".staging-" + version);
    try (Stream<Path> files = Files.walk(versionDir)) {
      for (Path from : files.toList()) {
        Path to = staging.resolve(versionDir.relativize(from).toString());
        if (Files.isDirectory(from)) {
          Files.createDirectories(to);
        } else {
          Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    Files.move(staging, modelDir.resolve(Long.toString(version)), StandardCopyOption.ATOMIC_MOVE);
  }
}
