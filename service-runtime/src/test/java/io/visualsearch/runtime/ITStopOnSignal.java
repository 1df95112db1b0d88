package io.visualsearch.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A service process stopped the way an orchestrator stops it: SIGTERM, then its exit code. */
class ITStopOnSignal {

  @TempDir
  Path dir;

  @Test
  void sigtermStopsTheServiceInOrderAndExitsWithTheCodeOfACleanStop() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = dir.resolve("service.log");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), OpsOnlyService.class.getName())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("OPS_PORT", Integer.toString(port));
    Process service = pb.start();
    try {
      awaitLive(port, service, log);
      service.destroy(); // SIGTERM
      assertTrue(service.waitFor(60, TimeUnit.SECONDS), "stopped");
      String output = Files.readString(log);
      assertEquals(ExitCode.OK.code(), service.exitValue(), "not 143 (128 + SIGTERM): " + output);
      assertTrue(output.contains("ops-only: stopped (OK)"), output);
    } finally {
      service.destroyForcibly();
    }
  }

  private static void awaitLive(int port, Process service, Path log) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest probe = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
        .timeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        if (http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      if (!service.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("the service did not come up: " + Files.readString(log));
      }
      Thread.sleep(100);
    }
  }
}
