package io.visualsearch.indexbuilder;

import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.runtime.ExitCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * How long a tenant build takes (recipe choice, training, adding, serializing, sku map), for
 * catalog sizes given as {@code <vectors>x<dimension>} arguments. Prints one
 * {@code <metric>=<value>} line per measurement (absolute values: seconds, vectors per second, bytes
 * per vector); an option or any other argument is refused with exit 2. Vectors are clustered Gaussians, which train like
 * real embeddings do; uploads are not included (they are bounded by the store, not the builder).
 */
public final class ShardBuildBenchmark {

  private ShardBuildBenchmark() {}

  static final String USAGE = "usage: ./visual-search bench index-builder [<vectors>x<dimension> ...]"
      + " (default 10000x768 50000x128 200000x128; takes no --options)";

  /** A catalog size to build: {@code n} vectors of {@code d} dimensions. */
  record Size(int n, int d) {}

  public static void main(String[] args) throws Exception {
    List<Size> sizes;
    try {
      sizes = sizes(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bench index-builder: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(ExitCode.CONFIG_ERROR.code());
      return;
    }
    ShardBuilder builder = new ShardBuilder(250_000, 0);
    for (Size size : sizes) {
      int n = size.n();
      int d = size.d();
      List<ProductVector> vectors = catalog(n, d, 17);
      IndexRecipe recipe = IndexRecipe.choose(n, d, 20_000, 2_000_000, null, 16, 64);
      // Warm-up: native library load and JIT, on a small catalog of another tenant.
      builder.build("warm-up", MODEL, vectors.subList(0, Math.min(n, 1000)), d,
          IndexRecipe.choose(Math.min(n, 1000), d, 20_000, 2_000_000, null, 16, 64), true).close();
      long t0 = System.nanoTime();
      long bytes;
      double seconds;
      try (BuiltIndex built = builder.build("bench", MODEL, vectors, d, recipe, true)) {
        seconds = (System.nanoTime() - t0) / 1e9;
        bytes = built.shards().stream().mapToLong(s -> s.file().toFile().length()).sum();
      }
      // A debounced rebuild after a few changes reuses the training.
      List<ProductVector> changed = new ArrayList<>(vectors.subList(10, n));
      long t1 = System.nanoTime();
      builder.build("bench", MODEL, changed, d, recipe, false).close();
      double rebuildSeconds = (System.nanoTime() - t1) / 1e9;
      String tag = recipe.factory().replace(",", "_").toLowerCase(Locale.ROOT) + "_" + n + "x" + d;
      System.out.printf(Locale.ROOT, "build_seconds_%s=%.3f%n", tag, seconds);
      System.out.printf(Locale.ROOT, "build_vectors_per_second_%s=%.0f%n", tag, n / seconds);
      System.out.printf(Locale.ROOT, "shard_bytes_per_vector_%s=%.1f%n", tag, (double) bytes / n);
      System.out.printf(Locale.ROOT, "rebuild_seconds_reusing_training_%s=%.3f%n", tag, rebuildSeconds);
    }
  }

  private static final ModelKey MODEL = new ModelKey("default", 1, "", "");

  /**
   * The sizes the arguments ask for. An option (--seconds=5, as other benchmarks take) or anything
   * else not {@code <vectors>x<dimension>} is refused by name, instead of failing as a number.
   */
  static List<Size> sizes(String[] args) {
    if (args.length == 0) {
      return List.of(new Size(10_000, 768), new Size(50_000, 128), new Size(200_000, 128));
    }
    List<Size> out = new ArrayList<>();
    for (String a : args) {
      if (a.startsWith("-")) {
        throw new IllegalArgumentException("unknown option " + a);
      }
      String[] nd = a.split("x", -1);
      try {
        if (nd.length == 2) {
          Size size = new Size(Integer.parseInt(nd[0]), Integer.parseInt(nd[1]));
          if (size.n() > 0 && size.d() > 0) {
            out.add(size);
            continue;
          }
        }
      } catch (NumberFormatException notANumber) {
        // refused below with the whole argument
      }
      throw new IllegalArgumentException("'" + a + "' is not <vectors>x<dimension> (e.g. 10000x768)");
    }
    return out;
  }

  private static List<ProductVector> catalog(int n, int d, long seed) {
    Random r = new Random(seed);
    int clusters = 64;
    float[][] centres = new float[clusters][d];
    for (float[] c : centres) {
      for (int j = 0; j < d; j++) {
        c[j] = (float) r.nextGaussian();
      }
    }
    List<ProductVector> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      float[] c = centres[r.nextInt(clusters)];
      float[] v = new float[d];
      double norm = 0;
      for (int j = 0; j < d; j++) {
        v[j] = c[j] + 0.5f * (float) r.nextGaussian();
        norm += v[j] * v[j];
      }
      float inv = (float) (1 / Math.sqrt(norm));
      for (int j = 0; j < d; j++) {
        v[j] *= inv;
      }
      String sku = "sku-" + i;
      out.add(new ProductVector(sku, SkuIds.id("bench", sku), MODEL, v, 0));
    }
    return out;
  }
}
