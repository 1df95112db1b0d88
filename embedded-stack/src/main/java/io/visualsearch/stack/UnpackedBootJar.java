package io.visualsearch.stack;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.commons.io.FileUtils;

/**
 * Runs a Spring Boot executable jar (Zipkin's) unpacked, with a class-data archive of its start.
 * Packed, every class is read out of a nested jar, and Zipkin took 7 s (8 s of CPU) to answer on
 * two cores, at every stack start of every test module and demo. Unpacked once per machine into
 * the temporary directory (Spring Boot's own {@code -Djarmode=tools extract}), with the classes its
 * first run loaded archived there by the JVM ({@code -XX:ArchiveClassesAtExit}, AppCDS), the runs
 * after it answer in 3 s. Nothing here is required: a jar that cannot be unpacked runs packed, and
 * an archive the JVM cannot use (another JDK) is ignored by it.
 */
final class UnpackedBootJar {

  private static final String ARCHIVE = "classes.jsa";

  private final Path packed;
  private final Path root;

  UnpackedBootJar(Path packed, Path root) {
    this.packed = packed;
    this.root = root;
  }

  /** In the JVM's temporary directory, keyed by the jar (path, size, time) and this JDK. */
  static UnpackedBootJar inTemporaryDirectory(Path packed) {
    return new UnpackedBootJar(packed, Path.of(System.getProperty("java.io.tmpdir")));
  }

  /** How one run goes: the jar after {@code -jar}, JVM options, and what to keep once it exited. */
  record Launch(Path jar, List<String> jvmArgs, Path archiveWritten, Path archive) {

    static Launch packed(Path jar) {
      return new Launch(jar, List.of(), null, null);
    }

    /** Keeps the archive this run wrote at its exit, if it exited by itself (a killed one may have cut it short). */
    void exited(boolean cleanly) {
      if (archiveWritten == null) {
        return;
      }
      try {
        if (cleanly && Files.size(archiveWritten) > 0) {
          Files.move(archiveWritten, archive, StandardCopyOption.ATOMIC_MOVE);
        }
      } catch (IOException notWrittenOrAnotherRunWon) {
        // Another run's archive is in place, or none was written: the next run writes one.
      } finally {
        try {
          Files.deleteIfExists(archiveWritten);
        } catch (IOException e) {
          // a stray file in the cache directory, nothing else
        }
      }
    }
  }

  /** Unpacks the jar if no earlier run did; the packed jar when that fails (said in {@code log}). */
  Launch prepare(Path log) {
    Path dir;
    try {
      dir = unpacked(log);
    } catch (IOException | RuntimeException e) {
      note(log, "runs packed: unpacking " + packed + " failed: " + e);
      return Launch.packed(packed);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Launch.packed(packed);
    }
    Path jar = dir.resolve(packed.getFileName());
    Path archive = dir.resolve(ARCHIVE);
    if (Files.isRegularFile(archive)) {
      return new Launch(jar, List.of("-XX:SharedArchiveFile=" + archive), null, null);
    }
    Path written = dir.resolve(ARCHIVE + "." + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".tmp");
    return new Launch(jar, List.of("-XX:ArchiveClassesAtExit=" + written), written, archive);
  }

  private Path unpacked(Path log) throws IOException, InterruptedException {
    Path dir = root.resolve("visual-search-" + packed.getFileName().toString().replace(".jar", "") + "-" + key());
    if (Files.isRegularFile(dir.resolve(packed.getFileName()))) {
      return dir;
    }
    Files.createDirectories(log.getParent());
    Path staging = Files.createTempDirectory(root, dir.getFileName() + ".unpacking-");
    try {
      Process extract = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Djarmode=tools", "-jar", packed.toString(), "extract", "--destination", staging.toString())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      if (!extract.waitFor(2, TimeUnit.MINUTES)) {
        extract.destroyForcibly().waitFor();
        throw new IOException("extracting took over 2 minutes");
      }
      if (extract.exitValue() != 0 || !Files.isRegularFile(staging.resolve(packed.getFileName()))) {
        throw new IOException("extract exited with " + extract.exitValue());
      }
      try {
        Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | DirectoryNotEmptyException | AtomicMoveNotSupportedException anotherRun) {
        // Unpacked by another stack at the same time: theirs is as good.
      }
      return dir;
    } finally {
      // Gone once moved into place; a staging copy left by a failed delete costs disk only.
      FileUtils.deleteQuietly(staging.toFile());
    }
  }

  private String key() throws IOException {
    String identity = packed.toAbsolutePath() + "|" + Files.size(packed) + "|" + Files.getLastModifiedTime(packed)
        + "|" + System.getProperty("java.home") + "|" + System.getProperty("java.vm.version");
    return Integer.toHexString(identity.hashCode()).toLowerCase(Locale.ROOT);
  }

  private static void note(Path log, String message) {
    try {
      Files.createDirectories(log.getParent());
      Files.writeString(log, "stack: " + message + System.lineSeparator(), java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      // the launch goes on packed either way
    }
  }

}
