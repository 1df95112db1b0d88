package io.visualsearch.defaultmodel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Command line: {@code ExportDefaultModel <outputBaseDir> [version] [--package <nsfwjs.tgz>]}.
 *
 * <p>Reads the pinned nsfwjs tarball (from {@code --package}, else the {@code NSFWJS_PACKAGE}
 * environment variable), rebuilds its InceptionV3 as a SavedModel and writes
 * {@code <outputBaseDir>/<version>/} (version 1 by default). The Maven build fetches the tarball
 * into {@code default-model/target/npm/} and runs this at {@code package}.
 */
public final class ExportDefaultModel {

  private ExportDefaultModel() {}

  public static void main(String[] args) throws IOException {
    List<String> positional = new ArrayList<>();
    String packagePath = System.getenv("NSFWJS_PACKAGE");
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--package") && i + 1 < args.length) {
        packagePath = args[++i];
      } else if (args[i].startsWith("--")) {
        usage("unknown option " + args[i]);
      } else {
        positional.add(args[i]);
      }
    }
    if (positional.isEmpty() || positional.size() > 2) {
      usage("expected <outputBaseDir> [version]");
    }
    if (packagePath == null) {
      usage("no nsfwjs tarball: pass --package or set NSFWJS_PACKAGE (the Maven build downloads it to "
          + "default-model/target/npm/nsfwjs-" + PinnedPackage.NSFWJS.version() + ".tgz from "
          + PinnedPackage.NSFWJS.registryUrl() + ")");
    }
    Path baseDir = Path.of(positional.get(0));
    long version = positional.size() == 2 ? parseVersion(positional.get(1)) : 1;

    long start = System.nanoTime();
    KerasModelArtifacts model = NsfwjsPackage.read(Path.of(packagePath), PinnedPackage.NSFWJS).model(NsfwjsPackage.INCEPTION_V3);
    Path versionDir = new DefaultModelExporter().export(model, baseDir, version);
    double seconds = (System.nanoTime() - start) / 1e9;

    System.out.println("saved_model_dir=" + versionDir.toAbsolutePath());
    System.out.println("saved_model_bytes=" + sizeOf(versionDir));
    System.out.printf("export_seconds=%.1f%n", seconds);
  }

  private static long parseVersion(String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      usage("version must be a positive integer, got '" + text + "'");
      return -1;
    }
  }

  private static long sizeOf(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private static void usage(String problem) {
    System.err.println("ExportDefaultModel: " + problem);
    System.err.println("usage: ExportDefaultModel <outputBaseDir> [version] [--package <nsfwjs-4.4.0.tgz>]");
    System.exit(2);
  }
}
