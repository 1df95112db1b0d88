package io.visualsearch.defaultmodel;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * The models inside a verified nsfwjs npm tarball. Each model directory
 * ({@code package/dist/models/<model>/}) holds {@code model.min.js} and
 * {@code group1-shardKofN.min.js} files, all browserify bundles exporting a literal.
 */
public final class NsfwjsPackage {

  /** The InceptionV3 model directory inside the package. */
  public static final String INCEPTION_V3 = "inception_v3";

  private static final String MODELS_DIR = "package/dist/models/";

  private final Map<String, byte[]> modelFiles;
  private final String packageJson;

  private NsfwjsPackage(Map<String, byte[]> modelFiles, String packageJson) {
    this.modelFiles = modelFiles;
    this.packageJson = packageJson;
  }

  /** Verifies the tarball against {@code pin} and reads its model files into memory. */
  public static NsfwjsPackage read(Path tarball, PinnedPackage pin) throws IOException {
    pin.verify(tarball);
    Map<String, byte[]> files = new HashMap<>();
    String packageJson = null;
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(tarball));
        TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(raw))) {
      for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
        if (!entry.isFile()) {
          continue;
        }
        String name = entry.getName();
        if (name.startsWith(MODELS_DIR) && name.endsWith(".js")) {
          files.put(name.substring(MODELS_DIR.length()), tar.readAllBytes());
        } else if (name.equals("package/package.json")) {
          packageJson = new String(tar.readAllBytes(), StandardCharsets.UTF_8);
        }
      }
    }
    if (packageJson == null) {
      throw new IOException(tarball + " has no package/package.json");
    }
    return new NsfwjsPackage(files, packageJson);
  }

  /** The package's own package.json text. */
  public String packageJson() {
    return packageJson;
  }

  /** The Keras model in {@code package/dist/models/<model>/}. */
  public KerasModelArtifacts model(String model) {
    JsonNode modelJson = BrowserifyBundle.exportedLiteral(text(model + "/model.min.js"), model + "/model.min.js");
    return KerasModelArtifacts.decode(modelJson, path -> shardBase64(model, path));
  }

  private String shardBase64(String model, String manifestPath) {
    String file = model + "/" + manifestPath + ".min.js";
    if (!modelFiles.containsKey(file)) {
      return null;
    }
    JsonNode exported = BrowserifyBundle.exportedLiteral(text(file), file);
    if (!exported.isTextual()) {
      throw new IllegalArgumentException(file + " does not export a base64 string");
    }
    return exported.textValue();
  }

  private String text(String file) {
    byte[] bytes = modelFiles.get(file);
    if (bytes == null) {
      throw new IllegalArgumentException("package has no models/" + file);
    }
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
