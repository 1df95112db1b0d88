package io.visualsearch.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the built modules are. A cluster process runs a module's main exactly as
 * {@code ./visual-search run} does: {@code <module>/target/classes} plus the runtime classpath the
 * build recorded in {@code <module>/target/runtime-classpath.txt}, so each service gets its own
 * dependency set rather than the union this JVM happens to have.
 */
public final class RepoLayout {

  private final Path root;

  public RepoLayout(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  /** {@code -DrepoRoot}, then {@code VS_ROOT}, then the nearest parent of the working directory holding the script. */
  public static RepoLayout locate() {
    String explicit = System.getProperty("repoRoot", System.getenv("VS_ROOT"));
    if (explicit != null && !explicit.isBlank()) {
      return new RepoLayout(Path.of(explicit));
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("visual-search")) && Files.isRegularFile(p.resolve("pom.xml"))) {
        return new RepoLayout(p);
      }
    }
    throw new IllegalStateException("cannot find the repository root (set VS_ROOT)");
  }

  public Path root() {
    return root;
  }

  /** The java command line classpath of a module; fails naming the module when it was not built. */
  public String classpath(String module) {
    Path classes = root.resolve(module).resolve("target/classes");
    Path recorded = root.resolve(module).resolve("target/runtime-classpath.txt");
    if (!Files.isDirectory(classes) || !Files.isRegularFile(recorded)) {
      throw new IllegalStateException("module " + module + " is not built (no " + root.relativize(recorded)
          + "); run: mvn -o -q -pl " + module + " -am install -DskipTests");
    }
    try {
      return classes + ":" + Files.readString(recorded).trim();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path modelBasePath() {
    return root.resolve("default-model/target/models");
  }
}
