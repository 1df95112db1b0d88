package io.visualsearch.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.UUID;
import org.apache.commons.io.file.PathUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's part of a service's local scratch root (search-api's and response-consumer's index
 * files, catalog-downloader's feed spools, index-builder's exact vectors): {@code instance-<id>/},
 * beside {@code instance-<id>.owner} naming the process (pid and start time). A file a crash cut
 * short stays behind, and the root outlives the process (an emptyDir, a Compose container's
 * restart, a host), so repeated crashes would fill it. At start, every instance directory whose
 * owner is no longer running is deleted; at close, this one.
 *
 * <p>Not file locks: closing any descriptor of a locked file drops the process's POSIX lock on it,
 * so checking another instance's lock from the same JVM (the demo, tests) would release it. The
 * start time tells a restarted container's new process from its predecessor, which often had
 * the same pid.
 */
public final class ScratchDirectory implements Component {

  private static final Logger log = LoggerFactory.getLogger(ScratchDirectory.class);
  private static final String PREFIX = "instance-";
  private static final String OWNER = ".owner";

  private final Path root;
  private final Path dir;
  private final Path ownerFile;
  private volatile boolean started;

  public ScratchDirectory(Path root) {
    this.root = root;
    String id = PREFIX + UUID.randomUUID();
    this.dir = root.resolve(id);
    this.ownerFile = root.resolve(id + OWNER);
  }

  /** For a setting naming a scratch root: a usable, non-blank path. */
  public static boolean isDirectoryPath(String dir) {
    try {
      Path.of(dir);
      return !dir.isBlank();
    } catch (InvalidPathException e) {
      return false;
    }
  }

  /** Where this instance downloads to; it exists once started. */
  public Path path() {
    return dir;
  }

  @Override
  public String name() {
    return "scratch";
  }

  @Override
  public void start() {
    try {
      Files.createDirectories(root);
      Files.writeString(ownerFile, ProcessHandle.current().pid() + " " + startOf(ProcessHandle.current()),
          StandardOpenOption.CREATE_NEW);
      sweep();
      Files.createDirectories(dir);
      started = true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot claim a scratch directory in " + root + ": " + e.getMessage(), e);
    }
  }

  private void sweep() throws IOException {
    try (DirectoryStream<Path> owners = Files.newDirectoryStream(root, PREFIX + "*" + OWNER)) {
      for (Path other : owners) {
        if (!other.equals(ownerFile) && abandoned(other)) {
          String name = other.getFileName().toString();
          Path leftover = root.resolve(name.substring(0, name.length() - OWNER.length()));
          long bytes = deleteTree(leftover);
          Files.deleteIfExists(other);
          log.info("removed {} left by an instance that is gone ({} bytes)", leftover, bytes);
        }
      }
    }
  }

  /** True when the process that wrote {@code owner} is no longer running. */
  static boolean abandoned(Path owner) {
    String[] recorded;
    try {
      recorded = Files.readString(owner).trim().split(" ");
    } catch (IOException e) {
      return false; // gone meanwhile: its instance cleaned up
    }
    try {
      Optional<ProcessHandle> running = ProcessHandle.of(Long.parseLong(recorded[0])).filter(ProcessHandle::isAlive);
      if (running.isEmpty()) {
        return true;
      }
      // The same pid started at another time: a restarted container's new process reused it.
      String started = startOf(running.get());
      return recorded.length > 1 && !recorded[1].equals("?") && !started.equals("?") && !started.equals(recorded[1]);
    } catch (NumberFormatException e) {
      return false; // not written by this class: not ours to delete
    }
  }

  private static String startOf(ProcessHandle p) {
    return p.info().startInstant().map(Object::toString).orElse("?");
  }

  /** Removes a directory and everything in it; the bytes its files held. */
  private static long deleteTree(Path top) throws IOException {
    return Files.exists(top) ? PathUtils.deleteDirectory(top).getByteCounter().get() : 0;
  }

  @Override
  public CheckResult check() {
    return started ? CheckResult.OK : CheckResult.failed("not started");
  }

  @Override
  public void close() {
    try {
      deleteTree(dir);
      Files.deleteIfExists(ownerFile);
    } catch (IOException e) {
      log.warn("scratch directory {} not removed: {}", dir, e.getMessage());
    }
  }
}
