package io.visualsearch.evaluation;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Identifies a SavedModel version by the SHA-256 of its {@code saved_model.pb} (a 16-hex-digit prefix). */
final class ModelDigest {

  private ModelDigest() {}

  static String of(Path versionDir) throws IOException {
    Path pb = versionDir.resolve("saved_model.pb");
    if (!Files.isRegularFile(pb)) {
      throw new IOException("no SavedModel at " + versionDir + " (missing saved_model.pb)");
    }
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(pb), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
  }
}
