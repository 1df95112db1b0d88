package io.visualsearch.deploy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.io.FileUtils;

/**
 * Stages the build context of every image: for each {@code docker/<image>/Dockerfile}, the
 * directory {@code <staging>/<image>/} with the Dockerfile, {@code app/<module>.jar} and
 * {@code lib/} holding every entry of the module's {@code target/runtime-classpath.txt}. The
 * module comes from the Dockerfile's {@code LABEL io.visualsearch.module=...}. Then
 * {@code docker build <staging>/<image>} needs nothing outside that directory.
 *
 * <p>Arguments: repository root, Dockerfile directory, staging directory, project version.
 */
public final class ImageStager {

  static final Pattern MODULE_LABEL = Pattern.compile("(?m)^(?!\\s*#).*\\bio\\.visualsearch\\.module=\"?([a-z0-9-]+)\"?");

  private final Path root;
  private final Path staging;
  private final String version;

  ImageStager(Path root, Path staging, String version) {
    this.root = root;
    this.staging = staging;
    this.version = version;
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 4) {
      System.err.println("usage: ImageStager <repo root> <dockerfile dir> <staging dir> <version>");
      System.exit(2);
    }
    Path root = Path.of(args[0]).toAbsolutePath().normalize();
    Path dockerDir = Path.of(args[1]);
    ImageStager stager = new ImageStager(root, Path.of(args[2]), args[3]);
    List<String> problems = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(dockerDir)) {
      for (Path dir : dirs.sorted().toList()) {
        Path dockerfile = dir.resolve("Dockerfile");
        if (!Files.isRegularFile(dockerfile)) {
          continue;
        }
        try {
          int libs = stager.stage(dir.getFileName().toString(), dockerfile);
          System.out.println("[deploy] staged image " + dir.getFileName() + " (" + libs + " libs)");
        } catch (IllegalStateException e) {
          problems.add(dir.getFileName() + ": " + e.getMessage());
        }
      }
    }
    if (!problems.isEmpty()) {
      problems.forEach(p -> System.err.println("[deploy] cannot stage " + p));
      System.exit(1);
    }
  }

  /** Stages one image; returns how many libraries it holds. */
  int stage(String image, Path dockerfile) throws IOException {
    String text = Files.readString(dockerfile);
    Matcher m = MODULE_LABEL.matcher(text);
    if (!m.find()) {
      throw new IllegalStateException("Dockerfile has no LABEL io.visualsearch.module=<module>");
    }
    String module = m.group(1);
    Path moduleDir = root.resolve(module);
    Path target = moduleDir.resolve("target");
    Path cpFile = target.resolve("runtime-classpath.txt");
    if (!Files.isRegularFile(cpFile)) {
      throw new IllegalStateException(cpFile + " is missing: build the module first (mvn -B -ntp -pl deploy -am install -DskipTests)");
    }
    Path out = staging.resolve(image);
    FileUtils.deleteDirectory(out.toFile());
    Files.createDirectories(out.resolve("lib"));
    Files.createDirectories(out.resolve("app"));
    Files.copy(dockerfile, out.resolve("Dockerfile"));

    Path moduleJar = target.resolve(module + "-" + version + ".jar");
    Path appJar = out.resolve("app").resolve(module + ".jar");
    if (Files.isRegularFile(moduleJar) && !module.equals("deploy")) {
      link(moduleJar, appJar);
    } else if (Files.isDirectory(target.resolve("classes"))) {
      // This module's own image (or a module only compiled so far): jar its classes.
      jar(target.resolve("classes"), appJar);
    } else {
      throw new IllegalStateException(moduleJar + " is missing: build the module first");
    }

    String cp = Files.readString(cpFile).trim();
    Map<String, Path> byName = new HashMap<>();
    for (String entry : cp.isEmpty() ? new String[0] : cp.split(java.io.File.pathSeparator)) {
      Path lib = Path.of(entry);
      if (!Files.isRegularFile(lib)) {
        throw new IllegalStateException("classpath entry " + entry + " is not a jar file: package its module first");
      }
      String name = lib.getFileName().toString();
      Path seen = byName.putIfAbsent(name, lib);
      if (seen != null && !seen.equals(lib)) {
        throw new IllegalStateException("two libraries named " + name + ": " + seen + " and " + lib);
      }
      link(lib, out.resolve("lib").resolve(name));
    }
    return byName.size();
  }

  /** A hard link where the file system allows it (the libraries are large), a copy elsewhere. */
  private static void link(Path from, Path to) throws IOException {
    try {
      Files.createLink(to, from);
    } catch (FileAlreadyExistsException e) {
      throw e;
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void jar(Path classes, Path jar) throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os, manifest);
        Stream<Path> files = Files.walk(classes)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
        Files.copy(f, out);
        out.closeEntry();
      }
    }
  }
}
