package io.visualsearch.cluster;

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
import java.util.concurrent.TimeUnit;

/**
 * One member of the cluster as an OS process: started from its {@link ProcessSpec} with output
 * appended to its log file (so restarts keep one history per member), judged ready by its ready
 * URL, killed with SIGKILL or stopped with SIGTERM — always together with its descendants, since
 * the s3 and zipkin supervisors each have a server JVM under them.
 */
public final class ManagedProcess {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private final ProcessSpec spec;
  private final String classpath;
  private final Path logFile;
  private final Path scratchDir;
  private volatile Process process;
  private int starts;

  /**
   * @param scratchDir the process's {@code java.io.tmpdir}: a JVM killed with SIGKILL cannot delete
   *     what it unpacked there (Kafka's compression libraries copy their native code out on every
   *     start), so it stays with the cluster's data, not in the machine's /tmp
   */
  public ManagedProcess(ProcessSpec spec, String classpath, Path logFile, Path scratchDir) {
    this.spec = spec;
    this.classpath = classpath;
    this.logFile = logFile;
    this.scratchDir = scratchDir;
  }

  public String name() {
    return spec.name();
  }

  public ProcessSpec spec() {
    return spec;
  }

  public Path logFile() {
    return logFile;
  }

  public synchronized void start() throws IOException {
    if (alive()) {
      throw new IllegalStateException(name() + " is already running");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(spec.jvmArgs());
    cmd.add("-Djava.io.tmpdir=" + Files.createDirectories(scratchDir));
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(spec.mainClass());
    cmd.addAll(spec.args());
    Files.createDirectories(logFile.getParent());
    Files.writeString(logFile, "==== start " + (++starts) + " of " + name() + " at " + java.time.Instant.now() + "\n",
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    ProcessBuilder pb = new ProcessBuilder(io.visualsearch.stack.OwnSession.of(cmd)).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    // Only what the spec says: a service must not pick up the launcher's own settings by accident.
    pb.environment().keySet().removeIf(k -> !k.equals("PATH") && !k.equals("HOME") && !k.equals("LANG"));
    pb.environment().putAll(spec.env());
    process = pb.start();
  }

  /** Waits for the ready URL to answer; fails early, naming the log, when the process exits. */
  public void awaitReady(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Process p = process;
      if (p == null || !p.isAlive()) {
        throw new IOException(name() + " exited" + (p == null ? "" : " with code " + p.exitValue()) + "; see " + logFile);
      }
      if (spec.readyUrl() == null || ready()) {
        return;
      }
      Thread.sleep(200);
    }
    throw new IOException(name() + " not ready at " + spec.readyUrl() + " within " + timeout + "; see " + logFile);
  }

  /** Waits until the process answers {@code /healthz} on its ops port: up, whatever its dependencies say. */
  public void awaitLive(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    URI live = spec.readyUrl().resolve("/healthz");
    while (System.nanoTime() < deadline) {
      Process p = process;
      if (p == null || !p.isAlive()) {
        throw new IOException(name() + " exited" + (p == null ? "" : " with code " + p.exitValue()) + "; see " + logFile);
      }
      try {
        if (HTTP.send(HttpRequest.newBuilder(live).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IOException(name() + " not live at " + live + " within " + timeout + "; see " + logFile);
  }

  /** True when the ready URL answers now with a status the spec accepts. */
  public boolean ready() {
    try {
      HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(spec.readyUrl()).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.discarding());
      return r.statusCode() >= 200 && r.statusCode() < spec.readyBelowStatus();
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public boolean alive() {
    Process p = process;
    return p != null && p.isAlive();
  }

  public long pid() {
    Process p = process;
    return p == null ? -1 : p.pid();
  }

  /** SIGKILL the process tree: no drain, no shutdown hooks — a crash. */
  public void kill() throws InterruptedException {
    Process p = process;
    if (p == null) {
      return;
    }
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    p.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM (the service drains and exits 0), escalating to SIGKILL after {@code grace}. */
  public int stop(Duration grace) throws InterruptedException {
    Process p = process;
    if (p == null) {
      return 0;
    }
    List<ProcessHandle> children = p.descendants().toList();
    p.destroy();
    if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    // A supervisor stops its child in its shutdown hook; make sure nothing outlives it anyway.
    children.forEach(ProcessHandle::destroyForcibly);
    return p.isAlive() ? -1 : p.exitValue();
  }

  /** Exit code after it ended, -1 while running or never started. */
  public int exitCode() {
    Process p = process;
    return p == null || p.isAlive() ? -1 : p.exitValue();
  }
}
