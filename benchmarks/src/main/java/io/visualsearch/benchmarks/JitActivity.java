package io.visualsearch.benchmarks;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * How busy this JVM's JIT compilers were since a start point, as a share of one core. While a
 * process is still compiling, its compilers compete with what a benchmark measures for the cores,
 * so benchmarks print it beside their numbers (and may warm up until it is small).
 */
public final class JitActivity {

  private static final CompilationMXBean COMPILER = ManagementFactory.getCompilationMXBean();

  private final long compileMillisAtStart;
  private final long nanosAtStart;

  private JitActivity() {
    this.compileMillisAtStart = COMPILER.getTotalCompilationTime();
    this.nanosAtStart = System.nanoTime();
  }

  public static JitActivity start() {
    return new JitActivity();
  }

  /**
   * Compiling time since {@link #start()} over the wall time since then: 0.1 is a tenth of one core.
   * The JVM reports compile time summed over its compiler threads, and as elapsed rather than CPU
   * time, so on a loaded machine this leans high.
   */
  public double shareOfACore() {
    double elapsedMillis = Math.max(1e-3, (System.nanoTime() - nanosAtStart) / 1e6);
    return (COMPILER.getTotalCompilationTime() - compileMillisAtStart) / elapsedMillis;
  }
}
