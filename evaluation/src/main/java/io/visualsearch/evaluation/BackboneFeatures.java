package io.visualsearch.evaluation;

import io.visualsearch.defaultmodel.DefaultModelSignatures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TUint8;

/**
 * The frozen backbone's outputs for training the head, from one forward pass per image: the
 * shipped {@code serving_default} embedding (cached under the same fingerprint the evaluation's
 * {@code mixed5} model uses, so neither tool embeds the catalog twice) and the {@code mixed5} grid
 * the head reads. Owns the loaded SavedModel until {@link #close()}.
 */
final class BackboneFeatures implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BackboneFeatures.class);
  private static final int BATCH = 64;

  /** Both outputs for the same images, row for row. */
  record Pair(Features embedding, Features grid) {}

  private final SavedModelBundle bundle;
  private final BackboneGraph backbone;
  private final String digest;

  private BackboneFeatures(SavedModelBundle bundle, BackboneGraph backbone, String digest) {
    this.bundle = bundle;
    this.backbone = backbone;
    this.digest = digest;
  }

  static BackboneFeatures load(Path versionDir) throws IOException {
    String digest = ModelDigest.of(versionDir);
    SavedModelBundle bundle = SavedModelBundle.load(versionDir.toString(), SavedModelBundle.DEFAULT_TAG);
    try {
      return new BackboneFeatures(bundle, BackboneGraph.attach(bundle.graph(), bundle.metaGraphDef()), digest);
    } catch (RuntimeException e) {
      bundle.close();
      throw e;
    }
  }

  String embeddingFingerprint() {
    return digest + "-" + DefaultModelSignatures.SERVING_DEFAULT;
  }

  String gridFingerprint() {
    return digest + "-mixed5grid" + BackboneGraph.GRID + "x" + BackboneGraph.GRID;
  }

  /** Both outputs for the images cached under {@code key}, embedding them on a miss. */
  Pair cached(FeatureCache cache, String key, Supplier<LabeledImages> images) throws IOException {
    Optional<Features> embedding = cache.find(embeddingFingerprint(), key);
    Optional<Features> grid = cache.find(gridFingerprint(), key);
    if (embedding.isPresent() && grid.isPresent()) {
      log.info("backbone features for '{}' ({} images) from the cache", key, grid.get().count());
      return new Pair(embedding.get(), grid.get());
    }
    LabeledImages batch = images.get();
    long start = System.nanoTime();
    Pair computed = extract(batch);
    double seconds = (System.nanoTime() - start) / 1e9;
    log.info("backbone features for '{}': {} images in {} s ({} img/s)", key, batch.count(),
        String.format("%.0f", seconds), String.format("%.1f", batch.count() / Math.max(seconds, 1e-9)));
    cache.store(embeddingFingerprint(), key, computed.embedding());
    cache.store(gridFingerprint(), key, computed.grid());
    return computed;
  }

  Pair extract(LabeledImages images) {
    int n = images.count();
    int embeddingDim = BackboneGraph.CHANNELS;
    int gridDim = BackboneGraph.GRID_FEATURES;
    float[] embedding = new float[Math.multiplyExact(n, embeddingDim)];
    float[] grid = new float[Math.multiplyExact(n, gridDim)];
    long start = System.nanoTime();
    long lastLog = start;
    for (int first = 0; first < n; first += BATCH) {
      int size = Math.min(BATCH, n - first);
      try (TUint8 input = rgb(images, first, size);
          Result result = bundle.session().runner()
              .feed(backbone.images, input)
              .fetch(backbone.embedding)
              .fetch(backbone.grid)
              .run()) {
        copyRows((TFloat32) result.get(0), embedding, first, size, embeddingDim);
        copyRows((TFloat32) result.get(1), grid, first, size, gridDim);
      }
      long now = System.nanoTime();
      if (now - lastLog > 30_000_000_000L) {
        lastLog = now;
        log.info("backbone: {}/{} images ({} img/s)", first + size, n,
            String.format("%.1f", (first + size) / ((now - start) / 1e9)));
      }
    }
    return new Pair(new Features(embedding, embeddingDim), new Features(grid, gridDim));
  }

  static void copyRows(TFloat32 tensor, float[] into, int firstRow, int rows, int dim) {
    if (tensor.shape().numDimensions() != 2 || tensor.shape().get(0) != rows || tensor.shape().get(1) != dim) {
      throw new IllegalStateException("backbone returned " + tensor.shape() + ", expected [" + rows + ", " + dim + "]");
    }
    tensor.copyTo(DataBuffers.of(into, false, false).slice((long) firstRow * dim, (long) rows * dim));
  }

  /** Gray to RGB by repeating the channel: the model takes uint8 RGB. */
  static TUint8 rgb(LabeledImages images, int first, int size) {
    int pixels = images.imageBytes();
    byte[] gray = images.pixels();
    byte[] rgb = new byte[size * pixels * 3];
    for (int p = 0, base = first * pixels; p < size * pixels; p++) {
      byte v = gray[base + p];
      rgb[3 * p] = v;
      rgb[3 * p + 1] = v;
      rgb[3 * p + 2] = v;
    }
    return TUint8.tensorOf(Shape.of(size, images.height(), images.width(), 3), DataBuffers.of(rgb, true, false));
  }

  @Override
  public void close() {
    bundle.close();
  }
}
