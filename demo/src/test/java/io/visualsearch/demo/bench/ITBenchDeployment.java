package io.visualsearch.demo.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.ConfigException;
import io.visualsearch.samplecatalog.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmarks' deployment when it cannot start. */
class ITBenchDeployment {

  @Test
  void aServiceRefusingItsSettingsLeavesNoServerAndNoDirectoryBehind(@TempDir Path parent) throws Exception {
    Path models = Files.createDirectories(parent.resolve("models/default"));
    Path benchParent = Files.createDirectories(parent.resolve("tmp"));
    try {
      // Accepted by the stack, refused while the first service is wired: the stack is running by then.
      ConfigException e = assertThrows(ConfigException.class, () -> BenchDeployment.start(benchParent,
          FashionMnist.debian(), 10, models.getParent(), Map.of("KAFKA_CLIENT_PROPERTIES", "acks=1")));
      assertTrue(e.getMessage().contains("acks"), e.getMessage());
      assertNoServerOf(benchParent);
      try (Stream<Path> left = Files.list(benchParent)) {
        assertEquals(List.of(), left.toList(), "the deployment's directory is left behind");
      }
    } finally {
      serversOf(benchParent).forEach(ProcessHandle::destroyForcibly);
    }
  }

  /** The stack's s3proxy and Zipkin: processes of their own, their command lines naming its directory. */
  private static List<ProcessHandle> serversOf(Path dir) {
    return ProcessHandle.current().descendants()
        .filter(p -> p.info().commandLine().orElse("").contains(dir.toString())).toList();
  }

  private static void assertNoServerOf(Path dir) throws Exception {
    for (ProcessHandle p : serversOf(dir)) {
      try {
        p.onExit().get(1, TimeUnit.MINUTES);
      } catch (TimeoutException e) {
        throw new AssertionError("still running after the failed start: " + p.info().commandLine().orElse("?"));
      }
    }
  }
}
