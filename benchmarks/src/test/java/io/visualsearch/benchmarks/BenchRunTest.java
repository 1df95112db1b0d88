package io.visualsearch.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BenchRunTest {

  /** A benchmark that fails while a non-daemon thread (a Kafka or gRPC client's) is still running. */
  public static final class FailingBench {
    public static void main(String[] args) {
      BenchRun.runAndExit(() -> {
        Thread client = new Thread(() -> {
          try {
            Thread.sleep(Long.MAX_VALUE);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }, "non-daemon-client");
        client.start();
        throw new IllegalStateException("phase 3 failed");
      });
    }
  }

  @Test
  void aFailingBenchmarkEndsItsJvmWithExitCode1AndSaysWhy() throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), FailingBench.class.getName())
        .redirectErrorStream(true).start();
    try {
      // Bounded only so that a JVM kept alive by the thread fails the test instead of hanging it.
      assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the JVM is still running after the benchmark failed");
      String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(1, p.exitValue(), said);
      assertTrue(said.contains("phase 3 failed"), said);
    } finally {
      p.destroyForcibly();
    }
  }
}
