package io.visualsearch.indexformat;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Hex sha256, the checksum of every published file and the content address of images. */
public final class Sha256 {

  private Sha256() {}

  public static String hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
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
}
