package io.visualsearch.benchmarks;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A benchmark's stack when the benchmark is stopped by a signal, in a JVM of its own. */
class ITBenchStack {

  /** A benchmark holding its stack, as bench model's generator phase does for minutes. */
  public static final class HoldsAStack {
    public static void main(String[] args) {
      BenchRun.runAndExit(() -> {
        try (BenchStack s = BenchStack.start(Path.of(args[0]))) {
          System.out.println("stack started");
          System.out.flush();
          Thread.sleep(Long.MAX_VALUE);
        }
      });
    }
  }

  @Test
  void sigtermStopsTheStacksServersAndDeletesItsDirectory(@TempDir Path parent) throws Exception {
    Path dir = parent.resolve("stack-bench");
    Path log = parent.resolve("bench.log");
    Process bench = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), HoldsAStack.class.getName(), dir.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
      while (!said(log).contains("stack started") && bench.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertTrue(said(log).contains("stack started"), said(log));
      assertFalse(serversOf(dir).isEmpty(), "s3proxy and Zipkin run as processes of their own");
      bench.destroy(); // SIGTERM, as kill or a terminal's Ctrl-C sends
      assertTrue(bench.waitFor(3, TimeUnit.MINUTES), "the benchmark did not end on SIGTERM");
      assertNoServerOf(dir);
      assertFalse(Files.exists(dir), "the stack's directory is left behind: " + dir);
    } finally {
      bench.destroyForcibly();
      serversOf(dir).forEach(ProcessHandle::destroyForcibly);
    }
  }

  private static String said(Path log) throws Exception {
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }

  /** Any process, not only this JVM's descendants: the benchmark's children outlive it as orphans. */
  private static List<ProcessHandle> serversOf(Path dir) {
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().orElse("").contains(dir.toString())).toList();
  }

  private static void assertNoServerOf(Path dir) throws Exception {
    for (ProcessHandle p : serversOf(dir)) {
      try {
        p.onExit().get(1, TimeUnit.MINUTES);
      } catch (TimeoutException e) {
        throw new AssertionError("still running after the benchmark ended: " + p.info().commandLine().orElse("?"));
      }
    }
  }
}
