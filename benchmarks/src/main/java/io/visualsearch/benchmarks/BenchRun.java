package io.visualsearch.benchmarks;

/** How a benchmark's {@code main} ends. */
public final class BenchRun {

  private BenchRun() {}

  /** A benchmark's body. */
  @FunctionalInterface
  public interface Body {
    void run() throws Exception;
  }

  /**
   * Runs a benchmark and ends the JVM with its outcome: 0, or 1 after printing what failed. Kafka,
   * gRPC and the services leave non-daemon threads behind, so a {@code main} that merely returned
   * or threw kept the JVM alive, the failure looking like a benchmark still running.
   */
  public static void runAndExit(Body body) {
    try {
      body.run();
      System.exit(0);
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(1);
    }
  }
}
