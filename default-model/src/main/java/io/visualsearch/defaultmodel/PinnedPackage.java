package io.visualsearch.defaultmodel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * An npm tarball identified by name, version and the SHA-512 the registry publishes for it. The
 * exporter refuses any other bytes: the weights become the product's default model, so what it
 * was built from must be exactly what the pin names.
 */
public record PinnedPackage(String name, String version, String sha512Hex) {

  /** nsfwjs 4.4.0 (MIT), integrity sha512-krC1fgeTLXtZ…7dc+MA== on registry.npmjs.org. */
  public static final PinnedPackage NSFWJS =
      new PinnedPackage(
          "nsfwjs",
          "4.4.0",
          "92b0b57e07932d7b59c20769289d239bb86abf481349141044bf8584e6b1689f"
              + "568fddade3604eddcb0eda87708130206607f646f9303eda7447c01aedd73e30");

  /** Where the npm registry serves the tarball. */
  public String registryUrl() {
    return "https://registry.npmjs.org/" + name + "/-/" + name + "-" + version + ".tgz";
  }

  /** Throws unless {@code tarball} has the pinned SHA-512. */
  public void verify(Path tarball) throws IOException {
    String actual = sha512Hex(tarball);
    if (!actual.equalsIgnoreCase(sha512Hex)) {
      throw new IOException(tarball + " is not " + name + "@" + version + ": sha512 " + actual + ", expected "
          + sha512Hex + " (a download cut short? delete it and build again)");
    }
  }

  private static String sha512Hex(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-512");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime provides SHA-512", e);
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
