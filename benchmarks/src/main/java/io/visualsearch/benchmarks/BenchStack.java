package io.visualsearch.benchmarks;

import io.visualsearch.config.Config;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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
  private final CloseOnSignal closer;

  private BenchStack(Path dir, EmbeddedStack stack) {
    this.dir = dir;
    this.stack = stack;
    this.closer = new CloseOnSignal("stopping the embedded stack", this::teardown);
  }

  /** Starts a stack on free ports in {@code dir}, which it deletes when closed. */
  public static BenchStack start(Path dir) throws Exception {
    Config config = StackSettings.definition().parse(Map.of("STACK_KAFKA_PORT", "0",
        "STACK_KAFKA_CONTROLLER_PORT", "0", "STACK_S3_PORT", "0", "STACK_ZIPKIN_PORT", "0",
        "STACK_DATA_DIR", dir.toString()));
    BenchStack s = new BenchStack(dir, new EmbeddedStack(config));
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

  private void teardown() throws IOException {
    stack.close();
    if (Files.exists(dir)) {
      PathUtils.deleteDirectory(dir);
    }
  }

  @Override
  public void close() {
    try {
      closer.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
