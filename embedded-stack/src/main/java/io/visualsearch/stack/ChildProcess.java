package io.visualsearch.stack;

import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A server run from its published jar as a separate JVM, started and judged ready by an HTTP
 * probe, and stopped with the process (and its children). Output goes to a log file beside its
 * data, which is where to look when it does not come up.
 */
final class ChildProcess implements Component {

  private final String name;
  private final Path jar;
  private final List<String> jvmArgs;
  private final List<String> args;
  private final Map<String, String> env;
  private final URI readyProbe;
  private final Path logFile;
  private final Duration startTimeout;
  private Process process;

  ChildProcess(String name, Path jar, List<String> jvmArgs, List<String> args, Map<String, String> env,
      URI readyProbe, Path logFile, Duration startTimeout) {
    this.name = name;
    this.jar = jar;
    this.jvmArgs = jvmArgs;
    this.args = args;
    this.env = env;
    this.readyProbe = readyProbe;
    this.logFile = logFile;
    this.startTimeout = startTimeout;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void start() throws Exception {
    if (!Files.isRegularFile(jar)) {
      throw new IOException(name + ": jar not found at " + jar + " (run the build once: it fetches it)");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    // Names the stack the server belongs to in its command line: `ps` (and a test) can tell which
    // stack a server process is, when a machine runs several.
    cmd.add("-Dvisualsearch.stack.log=" + logFile);
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.addAll(args);
    Files.createDirectories(logFile.getParent());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    pb.environment().putAll(env);
    process = pb.start();
    awaitReady();
  }

  private void awaitReady() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + startTimeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(name + " exited with code " + process.exitValue() + "; see " + logFile);
      }
      try {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(readyProbe).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() < 500) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    close();
    throw new IOException(name + " did not answer " + readyProbe + " within " + startTimeout + "; see " + logFile);
  }

  @Override
  public CheckResult check() {
    if (process == null) {
      return CheckResult.failed("not started");
    }
    return process.isAlive() ? CheckResult.OK : CheckResult.failed("exited with " + process.exitValue());
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  @Override
  public void close() {
    Process p = process;
    if (p == null) {
      return;
    }
    p.descendants().forEach(ProcessHandle::destroy);
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
