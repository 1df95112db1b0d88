package io.visualsearch.stack;

import io.visualsearch.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.io.FileUtils;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Shared fixture for integration tests: one real stack per test JVM, on free loopback ports and a
 * fresh temporary directory, started on first use and stopped when the JVM's tests are done.
 * Tests take it as a parameter: {@code @ExtendWith(StackExtension.class) ... (EmbeddedStack stack)}.
 * Tests share the stack, so each uses its own tenant names, consumer groups or key prefixes.
 */
public final class StackExtension implements ParameterResolver {

  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(StackExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    return p.getParameter().getType() == EmbeddedStack.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    return e.getRoot().getStore(NS).getOrComputeIfAbsent("stack", k -> new Running(), Running.class).stack;
  }

  private static final class Running implements ExtensionContext.Store.CloseableResource {
    final Path dir;
    final EmbeddedStack stack;

    Running() {
      try {
        dir = Files.createTempDirectory("vs-stack-");
        Config config = StackSettings.definition().parse(Map.of(
            "STACK_KAFKA_PORT", "0", "STACK_KAFKA_CONTROLLER_PORT", "0", "STACK_S3_PORT", "0",
            "STACK_ZIPKIN_PORT", "0", "STACK_DATA_DIR", dir.toString()));
        stack = new EmbeddedStack(config);
        stack.start();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("embedded stack did not start: " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      stack.close();
      // The stack has stopped; a file one of its processes was still closing is not worth a failure.
      FileUtils.deleteQuietly(dir.toFile());
    }
  }
}
