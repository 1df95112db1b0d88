package io.visualsearch.benchmarks;

import io.visualsearch.config.Config;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.commons.io.file.PathUtils;

/**
 * A benchmark's own embedded stack (Kafka, the S3 server and Zipkin on free ports) in a directory
 * of its own, removed with the directory when the benchmark ends: normally, by an exception, or by
 * Ctrl-C or SIGTERM. The S3 server and Zipkin are child processes, which outlive the JVM unless
 * stopped, holding ports and memory; so the shutdown hook is in place before the stack starts.
 */
public final class BenchStack implements AutoCloseable {

  private final Path dir;
  private final EmbeddedStack stack;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch done = new CountDownLatch(1);
  private final Thread onSignal = new Thread(this::closeQuietly, "bench-stack-shutdown");

  private BenchStack(Path dir, EmbeddedStack stack) {
    this.dir = dir;
    this.stack = stack;
  }

  /** Starts a stack on free ports in {@code dir}, which it deletes when closed. */
  public static BenchStack start(Path dir) throws Exception {
    Config config = StackSettings.definition().parse(Map.of("STACK_KAFKA_PORT", "0",
        "STACK_KAFKA_CONTROLLER_PORT", "0", "STACK_S3_PORT", "0", "STACK_ZIPKIN_PORT", "0",
        "STACK_DATA_DIR", dir.toString()));
    BenchStack s = new BenchStack(dir, new EmbeddedStack(config));
    Runtime.getRuntime().addShutdownHook(s.onSignal);
    try {
      s.stack.start();
    } catch (Exception | Error e) {
      s.close();
      throw e;
    }
    return s;
  }

  public EmbeddedStack stack() {
    return stack;
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      System.err.println("bench: stopping the embedded stack: " + e);
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      if (Thread.currentThread() == onSignal) {
        // The JVM halts when its hooks return: let the close under way elsewhere finish first.
        try {
          done.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return;
    }
    try {
      if (Thread.currentThread() != onSignal) {
        try {
          Runtime.getRuntime().removeShutdownHook(onSignal);
        } catch (IllegalStateException shuttingDown) {
          // The hook is running or will run; it waits for this close.
        }
      }
      stack.close();
      if (Files.exists(dir)) {
        PathUtils.deleteDirectory(dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      done.countDown();
    }
  }
}
