package io.visualsearch.evaluation;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Computed embeddings on disk, {@code <dir>/<embedder fingerprint>/<set key>.f32}, so a rerun of
 * the evaluation (or fine-tuning on the same frozen features) skips the expensive forward passes.
 * The fingerprint covers the model bytes and signature; the set key names the images (split,
 * alteration recipe, and a digest of the chosen indices). Files are written to a temporary name and
 * renamed, so an interrupted run never leaves a truncated entry behind.
 */
public final class FeatureCache {

  private static final Logger log = LoggerFactory.getLogger(FeatureCache.class);
  private static final int MAGIC = 0x56534631; // "VSF1"

  private final Path dir;

  public FeatureCache(Path dir) {
    this.dir = dir;
  }

  /**
   * Features of images {@code indices} of a split of {@code splitSize} images. If the whole split
   * is cached the rows are sliced from it; otherwise the subset is embedded (and cached by its own
   * key). {@code images} supplies the selected images only when they must be embedded.
   */
  public Features splitSubset(Embedder embedder, String split, int splitSize, int[] indices, Supplier<LabeledImages> images)
      throws IOException {
    String wholeKey = split + "-all";
    if (isIdentity(indices, splitSize)) {
      return getOrCompute(embedder, wholeKey, images);
    }
    Path whole = file(embedder.fingerprint(), wholeKey);
    if (Files.exists(whole)) {
      return read(whole).select(indices);
    }
    return getOrCompute(embedder, split + "-" + digest(indices), images);
  }

  /** Features cached under {@code key}, computing and storing them on a miss. */
  public Features getOrCompute(Embedder embedder, String key, Supplier<LabeledImages> images) throws IOException {
    Optional<Features> cached = find(embedder.fingerprint(), key);
    if (cached.isPresent()) {
      log.info("{}: {} features for '{}' from the cache", embedder.name(), cached.get().count(), key);
      return cached.get();
    }
    LabeledImages batch = images.get();
    long start = System.nanoTime();
    float[] rows = embedder.embed(batch);
    double seconds = (System.nanoTime() - start) / 1e9;
    log.info("{}: embedded {} images for '{}' in {} s ({} img/s)", embedder.name(), batch.count(), key,
        String.format("%.1f", seconds), String.format("%.1f", batch.count() / Math.max(seconds, 1e-9)));
    Features features = new Features(rows, embedder.dimension());
    store(embedder.fingerprint(), key, features);
    return features;
  }

  /** The features stored for {@code fingerprint} and {@code key}, if any. */
  public Optional<Features> find(String fingerprint, String key) throws IOException {
    Path file = file(fingerprint, key);
    return Files.exists(file) ? Optional.of(read(file)) : Optional.empty();
  }

  /** Stores features computed elsewhere (e.g. several outputs of one forward pass). */
  public void store(String fingerprint, String key, Features features) throws IOException {
    write(file(fingerprint, key), features);
  }

  /** A short digest of an index list, for set keys. */
  public static String digest(int[] indices) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      ByteBuffer buffer = ByteBuffer.allocate(indices.length * 4);
      buffer.asIntBuffer().put(indices);
      return HexFormat.of().formatHex(sha.digest(buffer.array())).substring(0, 12) + "n" + indices.length;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private Path file(String fingerprint, String key) {
    return dir.resolve(fingerprint).resolve(key + ".f32");
  }

  private static boolean isIdentity(int[] indices, int size) {
    if (indices.length != size) {
      return false;
    }
    for (int i = 0; i < size; i++) {
      if (indices[i] != i) {
        return false;
      }
    }
    return true;
  }

  private static Features read(Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
      if (in.readInt() != MAGIC) {
        throw new IOException(file + " is not a feature cache file; delete it");
      }
      int count = in.readInt();
      int dim = in.readInt();
      byte[] raw = new byte[Math.multiplyExact(Math.multiplyExact(count, dim), 4)];
      in.readFully(raw);
      float[] rows = new float[count * dim];
      ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(rows);
      return new Features(rows, dim);
    }
  }

  private static void write(Path file, Features features) throws IOException {
    Files.createDirectories(file.getParent());
    Path temp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    ByteBuffer raw = ByteBuffer.allocate(features.rows().length * 4).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(features.rows());
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(temp), 1 << 16))) {
      out.writeInt(MAGIC);
      out.writeInt(features.count());
      out.writeInt(features.dim());
      out.write(raw.array());
    }
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
