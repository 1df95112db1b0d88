package io.visualsearch.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Zipkin's published jar, unpacked into a test directory instead of the temporary one. */
class UnpackedBootJarTest {

  final Path zipkin = new StackJars().zipkin();

  @Test
  void theFirstRunWritesAnArchiveTheNextRunsRead(@TempDir Path root) throws Exception {
    Path log = root.resolve("logs/zipkin.log");
    UnpackedBootJar jar = new UnpackedBootJar(zipkin, root);

    UnpackedBootJar.Launch first = jar.prepare(log);
    assertTrue(Files.isRegularFile(first.jar()), "unpacked: " + first.jar());
    assertFalse(first.jar().equals(zipkin), () -> readLog(log));
    assertTrue(Files.isDirectory(first.jar().resolveSibling("lib")), "its nested jars as files");
    assertEquals(List.of("-XX:ArchiveClassesAtExit=" + first.archiveWritten()), first.jvmArgs());

    // As the JVM leaves it at its exit.
    Files.write(first.archiveWritten(), new byte[] {1, 2, 3});
    first.exited(true);
    Path archive = first.jar().resolveSibling("classes.jsa");
    assertTrue(Files.isRegularFile(archive));
    assertFalse(Files.exists(first.archiveWritten()));

    UnpackedBootJar.Launch next = jar.prepare(log);
    assertEquals(first.jar(), next.jar(), "unpacked once");
    assertEquals(List.of("-XX:SharedArchiveFile=" + archive), next.jvmArgs());
    try (var entries = Files.list(root)) {
      assertEquals(1, entries.filter(p -> !p.getFileName().toString().equals("logs")).count(), "no staging left");
    }
  }

  static String readLog(Path log) {
    try {
      return Files.exists(log) ? Files.readString(log) : "(no log)";
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }

  /** A run stopped by force may have cut its archive short: the JVM would map a broken one. */
  @Test
  void anArchiveOfARunKilledBeforeItsEndIsNotKept(@TempDir Path root) throws Exception {
    UnpackedBootJar.Launch killed = new UnpackedBootJar(zipkin, root).prepare(root.resolve("zipkin.log"));
    Files.write(killed.archiveWritten(), new byte[] {1, 2, 3});
    killed.exited(false);
    assertFalse(Files.exists(killed.archiveWritten()));
    assertFalse(Files.exists(killed.jar().resolveSibling("classes.jsa")));
  }

  @Test
  void aJarThatCannotBeUnpackedRunsAsPublishedAndTheLogSaysWhy(@TempDir Path root) throws Exception {
    Path notBoot = Files.write(root.resolve("plain.jar"), new byte[] {'P', 'K', 0});
    Path log = root.resolve("plain.log");
    UnpackedBootJar.Launch launch = new UnpackedBootJar(notBoot, root).prepare(log);
    assertEquals(notBoot, launch.jar());
    assertEquals(List.of(), launch.jvmArgs());
    assertTrue(Files.readString(log).contains("runs packed"), Files.readString(log));
    launch.exited(true); // nothing to keep
  }
}
