package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManagedProcessTest {

  /** Run as the member's main: prints where its temporary files go, then exits. */
  public static final class PrintTmpDir {
    public static void main(String[] args) throws Exception {
      Path file = Files.createTempFile("scratch-", ".bin");
      System.out.println("tmpdir=" + System.getProperty("java.io.tmpdir"));
      System.out.println("tempfile=" + file);
    }
  }

  @Test
  void aMembersTemporaryFilesGoToItsScratchDirectory(@TempDir Path data) throws Exception {
    Path scratch = data.resolve("tmp/member-1");
    ProcessSpec spec = new ProcessSpec("member-1", "cluster", PrintTmpDir.class.getName(), List.of("-Xmx32m"),
        List.of(), Map.of(), null, 0);
    ManagedProcess member = new ManagedProcess(spec, System.getProperty("java.class.path"), data.resolve("logs/member-1.log"),
        scratch);

    member.start();
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (member.alive() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }

    String log = read(member.logFile());
    assertEquals(0, member.exitCode(), () -> "member exited cleanly; log: " + log);
    assertTrue(log.contains("tmpdir=" + scratch), log);
    try (var files = Files.list(scratch)) {
      assertTrue(files.anyMatch(f -> f.getFileName().toString().startsWith("scratch-")),
          "the file the member created is in its scratch directory, not the machine's /tmp");
    }
  }

  private static String read(Path file) throws java.io.IOException {
    return Files.exists(file) ? Files.readString(file) : "<no log>";
  }
}
