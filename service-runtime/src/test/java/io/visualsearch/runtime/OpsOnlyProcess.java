package io.visualsearch.runtime;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@link OpsOnlyService} in a JVM of its own, as an orchestrator runs a service: its output in a
 * log file, started once its {@code /healthz} answers. Closing kills what is left of it.
 */
final class OpsOnlyProcess implements AutoCloseable {

  final Process process;
  final Path log;
  final int port;

  private OpsOnlyProcess(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /** Starts it with {@code env} on a free ops port and waits up to a minute for liveness. */
  static OpsOnlyProcess start(Path dir, Map<String, String> env) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = dir.resolve("service.log");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), OpsOnlyService.class.getName())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    pb.environment().put("OPS_PORT", Integer.toString(port));
    OpsOnlyProcess started = new OpsOnlyProcess(pb.start(), log, port);
    try {
      started.awaitLive();
    } catch (Exception | AssertionError e) {
      started.close();
      throw e;
    }
    return started;
  }

  String output() throws IOException {
    return Files.readString(log);
  }

  private void awaitLive() throws Exception {
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
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("the service did not come up: " + output());
      }
      Thread.sleep(100);
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }
}
