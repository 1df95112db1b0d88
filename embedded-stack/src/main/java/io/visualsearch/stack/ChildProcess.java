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
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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
  private final String portSetting;
  private final UnpackedBootJar unpacked;
  private volatile UnpackedBootJar.Launch launch;
  private volatile Process process;
  /** Set by close(): a spawn finishing after it (a stop while the stack starts) ends itself. */
  private volatile boolean closed;

  /** {@code portSetting} is the variable that moves the server's port, named when the port is taken. */
  ChildProcess(String name, Path jar, List<String> jvmArgs, List<String> args, Map<String, String> env,
      URI readyProbe, Path logFile, Duration startTimeout, String portSetting) {
    this(name, jar, null, jvmArgs, args, env, readyProbe, logFile, startTimeout, portSetting);
  }

  /** {@code unpacked}: runs {@code jar}, a Spring Boot one, unpacked (null: as published). */
  ChildProcess(String name, Path jar, UnpackedBootJar unpacked, List<String> jvmArgs, List<String> args,
      Map<String, String> env, URI readyProbe, Path logFile, Duration startTimeout, String portSetting) {
    this.unpacked = unpacked;
    this.name = name;
    this.portSetting = portSetting;
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
    stopLeftover(name, jar, logFile.getParent());
    requirePortFree();
    Files.createDirectories(logFile.getParent());
    UnpackedBootJar.Launch how = unpacked == null ? UnpackedBootJar.Launch.packed(jar) : unpacked.prepare(logFile);
    launch = how;
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.addAll(how.jvmArgs());
    // Names the published jar and the stack the server belongs to in its command line, whichever
    // jar runs: `ps` (and a test, and the next start's leftover check) can tell which stack a
    // server process is, when a machine runs several.
    cmd.add("-Dvisualsearch.stack.jar=" + jar);
    cmd.add("-Dvisualsearch.stack.log=" + logFile);
    cmd.add("-jar");
    cmd.add(how.jar().toString());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(OwnSession.of(cmd)).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    pb.environment().putAll(env);
    process = pb.start();
    if (closed) {
      close();
      throw new IOException(name + ": stopped while starting");
    }
    // With the PID of this JVM, which owns it: only a server whose owner is gone is a leftover.
    Files.writeString(pidFile(logFile.getParent(), name), process.pid() + " " + ProcessHandle.current().pid() + "\n");
    awaitReady();
  }

  private static Path pidFile(Path dir, String name) {
    return dir.resolve(name + ".pid");
  }

  /**
   * Stops the server a previous run on {@code dir} left running: a JVM killed with SIGKILL (or
   * halted) never stops its children, and the orphan holds the port. Only a live process whose
   * command line still names this jar and this directory's log is stopped, so a PID the system has
   * given to another process since is left alone. A server whose owning JVM still runs is another
   * stack's at work on this directory (a second demo): that is refused, not stopped.
   */
  static void stopLeftover(String name, Path jar, Path dir) throws IOException {
    Path pidFile = pidFile(dir, name);
    long pid;
    long owner;
    try {
      String[] ids = Files.readString(pidFile).trim().split(" ");
      pid = Long.parseLong(ids[0]);
      owner = ids.length > 1 ? Long.parseLong(ids[1]) : -1;
    } catch (IOException | NumberFormatException noneOrUnreadable) {
      return;
    }
    String log = dir.resolve(name + ".log").toString();
    Optional<ProcessHandle> server = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
        .filter(p -> p.info().commandLine().map(c -> c.contains(jar.toString()) && c.contains(log)).orElse(false));
    if (server.isPresent() && owner > 0 && ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false)) {
      throw new IOException(name + " (pid " + pid + ") of a stack still running in process " + owner + " uses " + dir
          + ": stop that demo or test first, or give this one its own STACK_DATA_DIR");
    }
    server.ifPresent(p -> {
          System.err.println("stack: stopping " + name + " (pid " + pid + ") left running by a previous stack on " + dir);
          p.descendants().forEach(ProcessHandle::destroy);
          p.destroy();
          try {
            p.onExit().get(10, TimeUnit.SECONDS);
          } catch (TimeoutException e) {
            p.destroyForcibly();
            p.onExit().join();
          } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
          } catch (ExecutionException e) {
            // onExit does not fail
          }
        });
    try {
      Files.deleteIfExists(pidFile);
    } catch (IOException e) {
      // The next start reads it again and finds the process gone.
    }
  }

  private void requirePortFree() throws IOException {
    FreePort.require(name, readyProbe.getHost(), readyProbe.getPort(), portSetting);
  }

  private void awaitReady() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + startTimeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (closed) {
        throw new IOException(name + ": stopped while starting");
      }
      if (!process.isAlive()) {
        throw new IOException(name + " exited with code " + process.exitValue() + "; see " + logFile);
      }
      try {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(readyProbe).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.discarding());
        // Alive after answering: an answer from a process that is about to exit is not this server's.
        if (r.statusCode() < 500 && process.isAlive()) {
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
    closed = true;
    Process p = process;
    if (p == null) {
      return;
    }
    p.descendants().forEach(ProcessHandle::destroy);
    p.destroy();
    boolean stopped = false;
    try {
      stopped = p.waitFor(10, TimeUnit.SECONDS);
      if (!stopped) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    UnpackedBootJar.Launch how = launch;
    if (how != null) {
      how.exited(stopped);
    }
    try {
      Files.deleteIfExists(pidFile(logFile.getParent(), name));
    } catch (IOException e) {
      // Harmless: the next start finds the process gone.
    }
  }
}
