package io.visualsearch.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import io.visualsearch.stack.EmbeddedStack;
import org.apache.commons.io.file.PathUtils;

/** The demo's own files under {@code data/} (git-ignored). */
final class DemoFiles {

  private DemoFiles() {}

  /** The demo tenant's API key: kept across runs so a bookmarked storefront keeps working. */
  static String apiKey(Path file) throws IOException {
    if (Files.isRegularFile(file)) {
      String key = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (key.length() >= 16) {
        return key;
      }
    }
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    String key = "demo-" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    writeOwnerOnly(file, key + "\n");
    return key;
  }

  /**
   * The embedded stack's endpoints as shell assignments, for tools run beside the demo
   * ({@code set -a; . data/demo/stack.env; ./visual-search finetune --catalog-tenant demo}).
   * Owner-only: it holds the local object store's credentials.
   */
  static void stackEnvironment(Path file, Map<String, String> env) throws IOException {
    StringBuilder text = new StringBuilder();
    env.forEach((k, v) -> text.append(k).append("='").append(v.replace("'", "'\\''")).append("'\n"));
    writeOwnerOnly(file, text.toString());
  }

  /** Secrets under data/: readable by the owner only where the file system has POSIX permissions. */
  private static void writeOwnerOnly(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text, StandardCharsets.UTF_8);
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: the file stays readable like the rest of data/.
    }
  }

  /**
   * A fresh demo starts from an empty broker and store, so it shows the whole ingest. Only a
   * directory the stack created (it holds {@link EmbeddedStack#DATA_DIR_MARKER}) or an empty one
   * is deleted: STACK_DATA_DIR=/mnt/scratch or STACK_DATA_DIR=. must not wipe what is there. The
   * demo's own default, {@code data/stack} in the git-ignored {@code data/}, is always the stack's:
   * demos before the marker existed left it without one.
   */
  static void deleteStackData(Path dir, Path demoDefault) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    boolean ours = dir.toAbsolutePath().normalize().equals(demoDefault.toAbsolutePath().normalize())
        || Files.isRegularFile(dir.resolve(EmbeddedStack.DATA_DIR_MARKER));
    if (!ours && !isEmptyDirectory(dir)) {
      throw new NotStackData(dir);
    }
    PathUtils.deleteDirectory(dir);
  }

  private static boolean isEmptyDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (var entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    }
  }

  /** The stack's data directory holds files the stack did not create: a setting to fix, not a failure. */
  static final class NotStackData extends IOException {
    NotStackData(Path dir) {
      super("STACK_DATA_DIR " + dir + " is not empty and was not created by the stack (no "
          + EmbeddedStack.DATA_DIR_MARKER + " in it); the demo deletes that directory at every start, so point"
          + " STACK_DATA_DIR at a directory of its own, or run with --keep-data.");
    }
  }
}
