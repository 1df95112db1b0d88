package io.visualsearch.indexbuilder;

import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.OpenMpThreads;
import io.visualsearch.indexformat.ImageKeys;
import io.visualsearch.indexformat.SkuMap;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.ShardVectors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the FAISS files of one tenant's index from vectors of a single model. The vectors are
 * L2-normalised, so the recipe's metric (inner product, or L2 for product quantisation and PCA
 * projections) ranks by cosine similarity. A large tenant is split into shards
 * by SKU id (a product stays in its shard while the shard count stays the same); all shards
 * share one training, done on a deterministic sample and reused by later builds of the tenant
 * (see {@link TrainedQuantizers}).
 */
final class ShardBuilder {

  private final int shardMaxVectors;
  private final int ompThreads;
  private final TrainedQuantizers trained = new TrainedQuantizers();
  private final Path scratch;

  /**
   * Writes shard files into the JVM's temporary directory.
   *
   * @param ompThreads OpenMP threads for FAISS calls of the building thread; 0 keeps FAISS's default
   */
  ShardBuilder(int shardMaxVectors, int ompThreads) {
    this(shardMaxVectors, ompThreads, Path.of(System.getProperty("java.io.tmpdir")));
  }

  /** Writes shard files into {@code scratch} (this instance's {@code ScratchDirectory}, swept after a crash). */
  ShardBuilder(int shardMaxVectors, int ompThreads, Path scratch) {
    this.shardMaxVectors = shardMaxVectors;
    this.ompThreads = ompThreads;
    this.scratch = scratch;
  }

  /** Loads FAISS's native library now, so a machine without it fails at start-up, not at the first build. */
  void ensureNativeLoaded() {
    OpenMpThreads.forCurrentThread();
  }

  /**
   * Bytes a shard file may take. A reader without scratch space (search-api configured without
   * one) reads a shard into one Java array, and an array ends below 2 GiB: at 2,048 dimensions (a ResNet's features)
   * 250,000 vectors of a graph shard already take more, and every build of such a tenant failed.
   */
  static final long MAX_SHARD_BYTES = 1L << 30;

  /**
   * Shards for {@code vectors}: at most {@code shardMaxVectors} each, and few enough bytes each by
   * a generous estimate per vector (the full vector and graph links, or a quantised code).
   */
  static int shardCount(int vectors, int shardMaxVectors, int dimension, IndexRecipe recipe) {
    long perShard = Math.min(shardMaxVectors, Math.max(1, MAX_SHARD_BYTES / estimatedBytesPerVector(dimension, recipe)));
    return (int) Math.max(1, (vectors + perShard - 1) / perShard);
  }

  /** How many shards this builder splits {@code vectors} into under {@code recipe}. */
  int shardsFor(int vectors, int dimension, IndexRecipe recipe) {
    return shardCount(vectors, shardMaxVectors, dimension, recipe);
  }

  static long estimatedBytesPerVector(int dimension, IndexRecipe recipe) {
    return recipe.factory().contains("PQ") ? dimension + 64L : 4L * dimension + 1024;
  }

  /**
   * @param model the model every vector comes from
   * @param retrain train anew even if the tenant's last training could be reused
   */
  BuiltIndex build(String tenant, ModelKey model, List<ProductVector> vectors, int dimension, IndexRecipe recipe,
      boolean retrain) throws SkuIdCollisionException {
    checkIds(tenant, vectors);
    if (ompThreads > 0) {
      OpenMpThreads.setForCurrentThread(ompThreads);
    }
    List<ProductVector> byId = new ArrayList<>(vectors);
    byId.sort(Comparator.comparingLong(ProductVector::id));
    int shardCount = shardCount(byId.size(), shardMaxVectors, dimension, recipe);
    List<List<ProductVector>> parts = new ArrayList<>();
    for (int s = 0; s < shardCount; s++) {
      parts.add(new ArrayList<>());
    }
    for (ProductVector p : byId) {
      parts.get((int) (p.id() % shardCount)).add(p);
    }

    List<BuiltIndex.Shard> shards = new ArrayList<>();
    try {
      BuiltIndex.Training training = fillShards(tenant, model, vectors, dimension, recipe, retrain, parts, shards);
      return new BuiltIndex(shards, skuMap(byId), imageMap(byId), byId.size(), training);
    } catch (IOException e) {
      UncheckedIOException failure = new UncheckedIOException("cannot write a shard of " + tenant, e);
      BuiltIndex.discardFiles(shards, failure);
      throw failure;
    } catch (RuntimeException | Error e) {
      // An Error too (an OutOfMemoryError on a large shard): the scheduler retries the build, and
      // each attempt would leave gigabytes of earlier shards' files in the temporary directory.
      BuiltIndex.discardFiles(shards, e);
      throw e;
    }
  }

  /** Trains (or reuses the tenant's training), fills every part into its shard; says which it did. */
  private BuiltIndex.Training fillShards(String tenant, ModelKey model, List<ProductVector> vectors, int dimension,
      IndexRecipe recipe, boolean retrain, List<List<ProductVector>> parts, List<BuiltIndex.Shard> shards)
      throws IOException {
    boolean exactVectors = IndexRecipe.rescored(recipe.factory());
    byte[] template = retrain ? null : trained.reusable(tenant, model, recipe.factory(), dimension, vectors.size());
    BuiltIndex.Training training = template != null ? BuiltIndex.Training.REUSED : BuiltIndex.Training.NONE;
    try (FaissIndex base = template != null ? FaissIndex.deserialize(template)
        : FaissIndex.create(dimension, recipe.factory(), recipe.metric())) {
      if (!base.isTrained()) {
        base.train(TrainingSample.of(vectors, Math.max(recipe.trainingSize(), recipe.lists()), dimension));
        template = base.serialize();
        trained.remember(tenant, model, recipe.factory(), dimension, vectors.size(), template);
        training = BuiltIndex.Training.TRAINED;
      } else if (template == null) {
        // A recipe that needs no training (the catalog shrank to the exact tier, or was emptied):
        // the tenant's last training (tens of MB for IVF-PQ) no longer serves, and is dropped
        // rather than kept for the process's life.
        trained.forget(tenant);
      }
      if (parts.size() == 1) {
        shards.add(fill(base, parts.get(0), dimension, 0, recipe.searchParameters(), exactVectors));
      } else {
        // Each shard starts as a copy of the trained, empty index, so all shards share the centroids.
        byte[] empty = template != null ? template : base.serialize();
        for (int s = 0; s < parts.size(); s++) {
          try (FaissIndex shard = FaissIndex.deserialize(empty)) {
            shards.add(fill(shard, parts.get(s), dimension, s, recipe.searchParameters(), exactVectors));
          }
        }
      }
    }
    return training;
  }

  /**
   * Adds a shard's vectors and writes its file (in scratch) with the recipe's search parameters set, so a
   * reader that ignores the manifest (a reconciler, Python FAISS) still searches it as intended,
   * e.g. rescoring a refined graph's candidates; with {@code exactVectors}, also the shard's full
   * vectors, in id order, for readers to rescore a quantised shard's candidates.
   */
  private BuiltIndex.Shard fill(FaissIndex index, List<ProductVector> part, int dimension, int shard,
      String searchParameters, boolean exactVectors) throws IOException {
    float[] rows = new float[part.size() * dimension];
    long[] ids = new long[part.size()];
    for (int i = 0; i < part.size(); i++) {
      System.arraycopy(part.get(i).vector(), 0, rows, i * dimension, dimension);
      ids[i] = part.get(i).id();
    }
    if (!part.isEmpty()) {
      index.addWithIds(rows, ids);
    }
    if (index.ntotal() != part.size()) {
      throw new IllegalStateException("shard " + shard + " holds " + index.ntotal() + " vectors, expected " + part.size());
    }
    if (searchParameters != null && !searchParameters.isBlank()) {
      index.setParameters(searchParameters);
    }
    BuiltIndex.ExactVectors exact = null;
    if (exactVectors) {
      Path file = Files.createTempFile(scratch, "index-builder-", ".vectors");
      try {
        ShardVectors.write(file, ids, rows, dimension);
      } catch (IOException | RuntimeException | Error e) {
        BuiltIndex.discard(file, e);
        throw e;
      }
      exact = new BuiltIndex.ExactVectors(IndexLayout.shardVectorsFileName(shard), file);
    }
    Path file = null;
    try {
      file = Files.createTempFile(scratch, "index-builder-", ".faiss");
      index.write(file);
      return new BuiltIndex.Shard(IndexLayout.shardFileName(shard), file, part.size(), exact);
    } catch (IOException | RuntimeException | Error e) {
      if (file != null) {
        BuiltIndex.discard(file, e);
      }
      if (exact != null) {
        BuiltIndex.discard(exact.file(), e);
      }
      throw e;
    }
  }

  private static void checkIds(String tenant, List<ProductVector> vectors) throws SkuIdCollisionException {
    Map<Long, String> seen = new HashMap<>(vectors.size() * 2);
    for (ProductVector p : vectors) {
      String other = seen.putIfAbsent(p.id(), p.sku());
      if (other != null) {
        throw new SkuIdCollisionException(tenant, other, p.sku(), p.id());
      }
    }
  }

  /** images.tsv: the image each vector was computed from, in id order. */
  private static byte[] imageMap(List<ProductVector> byId) {
    long[] ids = new long[byId.size()];
    long[] keys = new long[byId.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = byId.get(i).id();
      keys[i] = byId.get(i).imageKey();
    }
    return ImageKeys.write(ids, keys);
  }

  /** skus.tsv, in id order. */
  private static byte[] skuMap(List<ProductVector> byId) {
    long[] ids = new long[byId.size()];
    List<String> skus = new ArrayList<>(byId.size());
    for (int i = 0; i < ids.length; i++) {
      ids[i] = byId.get(i).id();
      skus.add(byId.get(i).sku());
    }
    return SkuMap.write(ids, skus);
  }
}
