package io.visualsearch.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.runtime.ExitCode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo launcher itself, on its own stack (free ports, a temporary data directory). */
class ITDemoMain {

  @Test
  void anInvalidServiceSettingIsAConfigurationErrorNotAStartFailure(@TempDir Path dir) throws Exception {
    Run run = runWith(dir, "MODEL_SERVER_GRPC_PORT", "not-a-port");
    assertEquals(ExitCode.CONFIG_ERROR, run.code(), run.said());
    assertTrue(run.said().contains("MODEL_SERVER_GRPC_PORT"), run.said());
  }

  @Test
  void aSettingRefusedWhileAServiceIsWiredIsAConfigurationErrorToo(@TempDir Path dir) throws Exception {
    // Parsed fine, refused by the Kafka clients' wiring: acks=1 would weaken every acknowledged write.
    Run run = runWith(dir, "KAFKA_CLIENT_PROPERTIES", "acks=1");
    assertEquals(ExitCode.CONFIG_ERROR, run.code(), run.said());
    assertTrue(run.said().contains("acks"), run.said());
  }

  private record Run(ExitCode code, String said) {}

  /** The demo on its own stack in {@code dir} with one setting added, and what it wrote to stderr. */
  private static Run runWith(Path dir, String setting, String value) throws Exception {
    Files.createDirectories(dir.resolve("models/default")); // the launcher's prerequisite check
    Map<String, String> env = Map.of("STACK_KAFKA_PORT", "0", "STACK_KAFKA_CONTROLLER_PORT", "0",
        "STACK_S3_PORT", "0", "STACK_ZIPKIN_PORT", "0", "STACK_DATA_DIR", dir.resolve("stack").toString(),
        "MODEL_SERVER_BASE_PATH", dir.resolve("models").toString(), setting, value);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    ExitCode code;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      code = DemoMain.run(new DemoOptions(true, 10, false, Duration.ofMinutes(1)), env);
    } finally {
      System.setErr(stderr);
    }
    String said = err.toString(StandardCharsets.UTF_8);
    stderr.print(said);
    return new Run(code, said);
  }
}
