package io.visualsearch.benchmarks.ann;

import io.visualsearch.defaultmodel.DefaultModelRunner;
import io.visualsearch.defaultmodel.ImageBatch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * Real embeddings of the {@link BenchCatalog}, computed in-process with the shipped SavedModel and
 * kept in one file of little-endian float32 rows in catalog order, one file per model (see {@link
 * #fileFor}). Embedding costs ~15 ms an image
 * on this machine, so the file grows across runs within a time budget and is never recomputed.
 */
final class EmbeddingCache {

  private static final int BATCH = 32;

  private final Path file;
  private final int dimension;

  EmbeddingCache(Path file, int dimension) {
    this.file = file;
    this.dimension = dimension;
  }

  /**
   * The cache file for embeddings of {@code modelDir} (a SavedModel version directory): named by
   * the model's fingerprint as well as the signature and dimension, so that another model, or
   * another version of the same one, never reads or extends this model's vectors.
   */
  static Path fileFor(Path cacheDir, Path modelDir, String signature, int dimension) throws IOException {
    return cacheDir.resolve("fashion-mnist-v1-" + modelFingerprint(modelDir) + "-" + signature + "-" + dimension + ".f32");
  }

  /**
   * The first 12 hex digits of a SHA-256 over the model's graph ({@code saved_model.pb}) and every
   * file of its {@code variables} directory, names included: what the embeddings depend on.
   */
  static String modelFingerprint(Path modelDir) throws IOException {
    Path graph = modelDir.resolve("saved_model.pb");
    if (!Files.isRegularFile(graph)) {
      throw new IOException("no SavedModel in " + modelDir + " (saved_model.pb missing)");
    }
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    List<Path> files = new ArrayList<>(List.of(graph));
    Path variables = modelDir.resolve("variables");
    if (Files.isDirectory(variables)) {
      try (Stream<Path> s = Files.walk(variables)) {
        s.filter(Files::isRegularFile).sorted().forEach(files::add);
      }
    }
    byte[] buffer = new byte[1 << 16];
    for (Path f : files) {
      sha.update(modelDir.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      try (InputStream in = Files.newInputStream(f)) {
        for (int n; (n = in.read(buffer)) > 0; ) {
          sha.update(buffer, 0, n);
        }
      }
    }
    return HexFormat.of().formatHex(sha.digest()).substring(0, 12);
  }

  /** Complete rows on disk (a row cut short by an interrupted run does not count). */
  long rows() throws IOException {
    return Files.exists(file) ? Files.size(file) / (4L * dimension) : 0;
  }

  /**
   * Embeds further catalog positions until {@code targetRows} are cached or {@code budget} is
   * spent (the batch under way is finished). Returns the rows now cached.
   */
  long extend(BenchCatalog catalog, DefaultModelRunner model, String signature, long targetRows, Duration budget)
      throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    long have = rows();
    long target = Math.min(targetRows, catalog.size());
    long deadline = System.nanoTime() + budget.toNanos();
    int side = FashionMnistImages.SIDE;
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      out.truncate(have * 4L * dimension); // drop a partial row
      out.position(have * 4L * dimension);
      long started = System.nanoTime();
      long startRows = have;
      while (have < target && System.nanoTime() < deadline) {
        int n = (int) Math.min(BATCH, target - have);
        byte[] rgb = new byte[n * side * side * 3];
        for (int i = 0; i < n; i++) {
          byte[] gray = catalog.image(have + i);
          for (int p = 0; p < gray.length; p++) {
            int o = (i * gray.length + p) * 3;
            rgb[o] = gray[p];
            rgb[o + 1] = gray[p];
            rgb[o + 2] = gray[p];
          }
        }
        float[][] vectors = model.run(signature, new ImageBatch(rgb, n, side, side));
        if (vectors[0].length != dimension) {
          throw new IllegalStateException(signature + " gives " + vectors[0].length + "-d vectors, expected " + dimension);
        }
        ByteBuffer buf = ByteBuffer.allocate(n * dimension * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] v : vectors) {
          buf.asFloatBuffer().put(v);
          buf.position(buf.position() + dimension * 4);
        }
        buf.flip();
        while (buf.hasRemaining()) {
          out.write(buf);
        }
        have += n;
        if ((have - startRows) % (BATCH * 100) < BATCH) {
          double rate = (have - startRows) / ((System.nanoTime() - started) / 1e9);
          System.out.printf("  embedded %d/%d (%.0f images/s)%n", have, target, rate);
        }
      }
    }
    return rows();
  }

  /** Rows {@code [from, from + count)} as one row-major array. */
  float[] read(long from, int count) throws IOException {
    float[] out = new float[Math.multiplyExact(count, dimension)];
    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer buf = ByteBuffer.allocate(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
      long pos = from * 4L * dimension;
      int filled = 0;
      while (filled < out.length) {
        int chunk = (int) Math.min(buf.capacity(), 4L * (out.length - filled));
        buf.clear();
        buf.limit(chunk);
        while (buf.hasRemaining()) {
          int r = in.read(buf, pos);
          if (r < 0) {
            throw new IOException(file + " ends before row " + (from + count));
          }
          pos += r;
        }
        buf.flip();
        buf.asFloatBuffer().get(out, filled, chunk / 4);
        filled += chunk / 4;
      }
    }
    return out;
  }
}
