package io.visualsearch.searchapi;

import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.CorruptIndexException;
import io.visualsearch.indexformat.ImageKeys;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.ShardVectors;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.searchapi.index.VectorSpace;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Small real FAISS indexes for tests, built the way the index-builder builds them. */
public final class TestVectors {

  private TestVectors() {}

  public static float[] unit(Random rnd, int d) {
    float[] v = new float[d];
    double s = 0;
    for (int i = 0; i < d; i++) {
      v[i] = (float) rnd.nextGaussian();
      s += v[i] * v[i];
    }
    for (int i = 0; i < d; i++) {
      v[i] /= (float) Math.sqrt(s);
    }
    return v;
  }

  public static Map<String, float[]> random(int n, int d, long seed) {
    Random rnd = new Random(seed);
    Map<String, float[]> out = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      out.put("sku-" + i, unit(rnd, d));
    }
    return out;
  }

  /**
   * Unit vectors around {@code clusters} random centres, as a catalog's embeddings gather by kind
   * of product: each a centre plus Gaussian noise of {@code spread} in all (then normalised).
   */
  public static Map<String, float[]> clustered(int n, int d, int clusters, double spread, long seed) {
    Random rnd = new Random(seed);
    List<float[]> centres = new ArrayList<>();
    for (int c = 0; c < clusters; c++) {
      centres.add(unit(rnd, d));
    }
    Map<String, float[]> out = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      out.put("sku-" + i, near(centres.get(rnd.nextInt(clusters)), spread, rnd));
    }
    return out;
  }

  /** A unit vector near {@code centre}: Gaussian noise of {@code spread} in all, normalised. */
  public static float[] near(float[] centre, double spread, Random rnd) {
    float[] noise = unit(rnd, centre.length);
    float[] v = new float[centre.length];
    double s = 0;
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (centre[i] + spread * noise[i]);
      s += v[i] * v[i];
    }
    for (int i = 0; i < v.length; i++) {
      v[i] /= (float) Math.sqrt(s);
    }
    return v;
  }

  /** An in-memory version with {@code shards} IDMap,Flat inner-product shards (cosine on unit vectors). */
  public static LoadedIndex index(String tenant, String version, long modelVersion, Map<String, float[]> vectors,
      int shards, Map<Integer, Long> offsets) {
    return index(tenant, version, modelVersion, vectors, shards, offsets, "IDMap,Flat", null);
  }

  /**
   * Shards of the given FAISS factory (taking ids), its search parameters applied as search-api's
   * loader does. A factory with a PCA projection is trained on all the vectors and compares by L2,
   * as the index-builder builds it; the others by inner product.
   */
  public static LoadedIndex index(String tenant, String version, long modelVersion, Map<String, float[]> vectors,
      int shards, Map<Integer, Long> offsets, String factory, String searchParameters) {
    return index(tenant, version, modelVersion, vectors, shards, offsets, factory, searchParameters, null);
  }

  /**
   * As above; with {@code exactDir}, every shard also gets its exact vectors, written there and
   * opened as search-api's loader opens them (quantised shards, rescored). Product-quantised
   * factories compare by L2, as the index-builder builds them.
   */
  public static LoadedIndex index(String tenant, String version, long modelVersion, Map<String, float[]> vectors,
      int shards, Map<Integer, Long> offsets, String factory, String searchParameters, Path exactDir) {
    return index(tenant, version, modelVersion, vectors, shards, offsets, factory, searchParameters, exactDir, null);
  }

  /**
   * Flat shards as {@link #index(String, String, long, Map, int, Map)}, with the image each vector
   * was computed from ({@code images.tsv}): sku -> image key, 0 or absent unknown.
   */
  public static LoadedIndex indexWithImages(String tenant, String version, Map<String, float[]> vectors, int shards,
      Map<Integer, Long> offsets, Map<String, Long> imageKeyOf) {
    return index(tenant, version, 1, vectors, shards, offsets, "IDMap,Flat", null, null, imageKeyOf);
  }

  private static LoadedIndex index(String tenant, String version, long modelVersion, Map<String, float[]> vectors,
      int shards, Map<Integer, Long> offsets, String factory, String searchParameters, Path exactDir,
      Map<String, Long> imageKeyOf) {
    int d = vectors.values().iterator().next().length;
    Metric metric = factory.contains("PCA") || factory.contains("PQ") ? Metric.L2 : Metric.INNER_PRODUCT;
    float[] all = new float[vectors.size() * d];
    int row = 0;
    for (float[] v : vectors.values()) {
      System.arraycopy(v, 0, all, row++ * d, d);
    }
    List<FaissIndex> built = new ArrayList<>();
    List<List<String>> parts = new ArrayList<>();
    for (int s = 0; s < shards; s++) {
      parts.add(new ArrayList<>());
    }
    int i = 0;
    for (String sku : vectors.keySet()) {
      parts.get(i++ % shards).add(sku);
    }
    Map<Long, String> ids = new HashMap<>();
    List<IndexManifest.ShardFile> files = new ArrayList<>();
    List<ShardVectors> exact = new ArrayList<>();
    for (int s = 0; s < shards; s++) {
      FaissIndex idx = FaissIndex.create(d, factory, metric);
      if (!idx.isTrained()) {
        idx.train(all);
      }
      List<String> skus = parts.get(s);
      float[] flat = new float[skus.size() * d];
      long[] idArr = new long[skus.size()];
      for (int j = 0; j < skus.size(); j++) {
        System.arraycopy(vectors.get(skus.get(j)), 0, flat, j * d, d);
        idArr[j] = SkuIds.id(tenant, skus.get(j));
        ids.put(idArr[j], skus.get(j));
      }
      if (!skus.isEmpty()) {
        idx.addWithIds(flat, idArr);
      }
      if (searchParameters != null) {
        idx.setParameters(searchParameters);
      }
      built.add(idx);
      IndexManifest.IndexFile exactFile = null;
      if (exactDir != null) {
        exact.add(exactVectors(exactDir.resolve(version + "-" + s + ".vectors"), idArr, flat, d));
        exactFile = new IndexManifest.IndexFile("shard-" + s + ".vectors", 0, "");
      }
      files.add(new IndexManifest.ShardFile("shard-" + s, skus.size(), 0, "", exactFile));
    }
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, tenant, version, System.currentTimeMillis(), "default",
        modelVersion, "serving_default", d, "cosine", factory, vectors.size(), files, null, offsets, searchParameters, null);
    if (imageKeyOf != null) {
      long[] sortedIds = ids.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
      long[] keys = Arrays.stream(sortedIds).map(id -> imageKeyOf.getOrDefault(ids.get(id), 0L)).toArray();
      try {
        return new LoadedIndex(m, built, ids, ImageKeys.parse(ImageKeys.write(sortedIds, keys)),
            VectorSpace.of(metric, "cosine"));
      } catch (CorruptIndexException e) {
        throw new IllegalStateException(e);
      }
    }
    return new LoadedIndex(m, built, exactDir == null ? null : exact, ids, VectorSpace.of(metric, "cosine"));
  }

  private static ShardVectors exactVectors(Path file, long[] ids, float[] rows, int d) {
    int n = ids.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Long.compare(ids[a], ids[b]));
    long[] sortedIds = new long[n];
    float[] sortedRows = new float[n * d];
    for (int i = 0; i < n; i++) {
      sortedIds[i] = ids[order[i]];
      System.arraycopy(rows, order[i] * d, sortedRows, i * d, d);
    }
    try {
      ShardVectors.write(file, sortedIds, sortedRows, d);
      return ShardVectors.open(file, d, n);
    } catch (IOException | CorruptIndexException e) {
      throw new IllegalStateException(e);
    }
  }
}
