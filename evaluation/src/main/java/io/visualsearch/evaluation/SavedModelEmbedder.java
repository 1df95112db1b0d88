package io.visualsearch.evaluation;

import io.visualsearch.defaultmodel.DefaultModelRunner;
import io.visualsearch.defaultmodel.ImageBatch;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeds with one signature of a SavedModel version directory, in-process (TensorFlow Java), in
 * batches. This is the same graph the model server runs for that version, without the gRPC hop,
 * which would only add serialisation cost to an offline evaluation of 70,000 images. Owns the
 * loaded model until {@link #close()}.
 */
public final class SavedModelEmbedder implements Embedder {

  private static final Logger log = LoggerFactory.getLogger(SavedModelEmbedder.class);
  private static final int BATCH = 64;

  private final String name;
  private final String signature;
  private final String fingerprint;
  private final String description;
  private final DefaultModelRunner runner;
  private int dimension = -1;

  private SavedModelEmbedder(String name, String signature, String fingerprint, String description,
      DefaultModelRunner runner) {
    this.description = description;
    this.name = name;
    this.signature = signature;
    this.fingerprint = fingerprint;
    this.runner = runner;
  }

  /** Loads {@code versionDir} (the directory holding {@code saved_model.pb}). */
  public static SavedModelEmbedder load(String name, Path versionDir, String signature) throws IOException {
    String fingerprint = ModelDigest.of(versionDir) + "-" + signature;
    DefaultModelRunner runner = DefaultModelRunner.load(versionDir);
    if (!runner.bundle().metaGraphDef().getSignatureDefMap().containsKey(signature)) {
      runner.close();
      throw new IllegalArgumentException(versionDir + " has no signature '" + signature + "'");
    }
    String description = "`" + signature + "` of version " + versionDir.getFileName() + " (`" + versionDir
        + "`, saved_model.pb SHA-256 " + fingerprint.substring(0, fingerprint.indexOf('-')) + "…)";
    return new SavedModelEmbedder(name, signature, fingerprint, description, runner);
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String fingerprint() {
    return fingerprint;
  }

  @Override
  public int dimension() {
    if (dimension < 0) {
      throw new IllegalStateException("dimension is known after the first embed call");
    }
    return dimension;
  }

  @Override
  public float[] embed(LabeledImages images) {
    int n = images.count();
    int h = images.height();
    int w = images.width();
    float[] out = null;
    long start = System.nanoTime();
    long lastLog = start;
    for (int first = 0; first < n; first += BATCH) {
      int size = Math.min(BATCH, n - first);
      float[][] rows = runner.run(signature, rgbBatch(images, first, size));
      if (out == null) {
        dimension = rows[0].length;
        out = new float[Math.multiplyExact(n, dimension)];
      }
      for (int i = 0; i < size; i++) {
        System.arraycopy(rows[i], 0, out, (first + i) * dimension, dimension);
      }
      long now = System.nanoTime();
      if (now - lastLog > 30_000_000_000L) {
        lastLog = now;
        int done = first + size;
        log.info("{}: embedded {}/{} images ({} img/s)", name, done, n, String.format("%.1f", done / ((now - start) / 1e9)));
      }
    }
    return out == null ? new float[0] : out;
  }

  /** Gray to RGB by replicating the channel: the model takes uint8 RGB of any size. */
  private static ImageBatch rgbBatch(LabeledImages images, int first, int size) {
    int pixelsPerImage = images.imageBytes();
    byte[] gray = images.pixels();
    byte[] rgb = new byte[size * pixelsPerImage * 3];
    int base = first * pixelsPerImage;
    for (int p = 0; p < size * pixelsPerImage; p++) {
      byte v = gray[base + p];
      rgb[3 * p] = v;
      rgb[3 * p + 1] = v;
      rgb[3 * p + 2] = v;
    }
    return new ImageBatch(rgb, size, images.height(), images.width());
  }

  @Override
  public void close() {
    runner.close();
  }
}
