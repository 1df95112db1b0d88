package io.visualsearch.indexformat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Hex sha256, the checksum of every published file and the content address of images. */
public final class Sha256 {

  private Sha256() {}

  public static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(digest().digest(bytes));
  }

  /** Throws if {@code bytes} are not what the manifest says {@code file} holds. */
  public static void verify(String file, byte[] bytes, long expectedBytes, String expectedSha256)
      throws CorruptIndexException {
    if (bytes.length != expectedBytes) {
      throw new CorruptIndexException(file + ": " + bytes.length + " bytes, manifest says " + expectedBytes);
    }
    String actual = hex(bytes);
    if (!actual.equals(expectedSha256)) {
      throw new CorruptIndexException(file + ": sha256 " + actual + " does not match manifest " + expectedSha256);
    }
  }

  /** The hex sha256 of a file, read in a stream (files larger than any byte array). */
  public static String hex(Path path) throws IOException {
    MessageDigest digest = digest();
    try (DigestInputStream in = new DigestInputStream(Files.newInputStream(path), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** Throws if the local copy {@code path} of {@code file} is not what the manifest says it holds. */
  public static void verify(String file, Path path, long expectedBytes, String expectedSha256)
      throws CorruptIndexException, IOException {
    long size = Files.size(path);
    if (size != expectedBytes) {
      throw new CorruptIndexException(file + ": " + size + " bytes, manifest says " + expectedBytes);
    }
    String actual = hex(path);
    if (!actual.equals(expectedSha256)) {
      throw new CorruptIndexException(file + ": sha256 " + actual + " does not match manifest " + expectedSha256);
    }
  }
}
