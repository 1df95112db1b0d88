package io.visualsearch.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A service process stopped the way an orchestrator stops it: SIGTERM, then its exit code. */
class ITStopOnSignal {

  @TempDir
  Path dir;

  @Test
  void sigtermStopsTheServiceInOrderAndExitsWithTheCodeOfACleanStop() throws Exception {
    try (OpsOnlyProcess service = OpsOnlyProcess.start(dir, Map.of())) {
      service.process.destroy(); // SIGTERM
      assertTrue(service.process.waitFor(60, TimeUnit.SECONDS), "stopped");
      String output = service.output();
      assertEquals(ExitCode.OK.code(), service.process.exitValue(), "not 143 (128 + SIGTERM): " + output);
      assertTrue(output.contains("ops-only: stopped (OK)"), output);
    }
  }
}
