package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.Metric;
import io.visualsearch.faiss.SearchResult;
import io.visualsearch.indexformat.ShardVectors;
import io.visualsearch.indexformat.SkuIds;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ShardBuilderTest {

  /** Where the builds write their files: a build a test leaves open is not left in the machine's /tmp. */
  @org.junit.jupiter.api.io.TempDir
  java.nio.file.Path scratch;

  private static final ModelKey MODEL = new ModelKey("default", 1, "", "");
  private static final int DIM = 8;

  static List<ProductVector> products(String tenant, int n, long seed) {
    return products(tenant, n, seed, DIM);
  }

  static List<ProductVector> products(String tenant, int n, long seed, int dim) {
    Random r = new Random(seed);
    List<ProductVector> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] v = new float[dim];
      for (int j = 0; j < dim; j++) {
        v[j] = (float) r.nextGaussian();
      }
      String sku = "sku-" + i;
      out.add(new ProductVector(sku, SkuIds.id(tenant, sku), MODEL, unit(v), 0));
    }
    return out;
  }

  /** Every id in a shard: one query with k = ntotal, every list probed. */
  /** The shard's FAISS file as written. */
  static byte[] bytesOf(BuiltIndex.Shard shard) {
    try {
      return java.nio.file.Files.readAllBytes(shard.file());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static Set<Long> idsIn(byte[] shard, IndexRecipe recipe) {
    try (FaissIndex index = FaissIndex.deserialize(shard)) {
      if (recipe.lists() > 0) {
        index.setParameters("nprobe=" + recipe.lists());
      }
      int n = (int) index.ntotal();
      Set<Long> ids = new HashSet<>();
      if (n == 0) {
        return ids;
      }
      SearchResult r = index.search(new float[DIM], n);
      for (long id : r.ids(0)) {
        ids.add(id);
      }
      return ids;
    }
  }

  @Test
  void exactIndexFindsEveryProductAsItsOwnNearestNeighbour() throws Exception {
    List<ProductVector> products = products("acme", 50, 1);
    IndexRecipe recipe = IndexRecipe.choose(50, DIM, 20_000, 2_000_000, null, 16, 64);
    BuiltIndex built = new ShardBuilder(1_000, 1, scratch).build("acme", MODEL, products, DIM, recipe, false);
    assertEquals(1, built.shards().size());
    assertEquals("shard-000.faiss", built.shards().get(0).fileName());
    try (FaissIndex index = FaissIndex.deserialize(bytesOf(built.shards().get(0)))) {
      assertEquals(Metric.INNER_PRODUCT, index.metric());
      assertEquals(50, index.ntotal());
      for (ProductVector p : products) {
        SearchResult r = index.search(p.vector(), 1);
        assertEquals(p.id(), r.id(0, 0));
        assertEquals(1f, r.distance(0, 0), 1e-5f, "cosine of a unit vector with itself");
      }
    }
    String tsv = new String(built.skuMap(), StandardCharsets.UTF_8);
    assertEquals(50, tsv.lines().count());
    assertTrue(tsv.contains(SkuIds.id("acme", "sku-7") + "\tsku-7\n"));
  }

  @Test
  void midSizeCatalogsBecomeGraphShardsThatFindEveryProductFirst() throws Exception {
    List<ProductVector> products = products("acme", 400, 6);
    IndexRecipe recipe = IndexRecipe.choose(400, DIM, 100, 2_000_000, null, 4, 64);
    assertEquals("IDMap,HNSW32", recipe.factory());
    BuiltIndex built = new ShardBuilder(150, 1, scratch).build("acme", MODEL, products, DIM, recipe, false);
    assertEquals(3, built.shards().size());
    Map<Long, Integer> shardOf = new HashMap<>();
    for (int s = 0; s < built.shards().size(); s++) {
      try (FaissIndex index = FaissIndex.deserialize(bytesOf(built.shards().get(s)))) {
        index.setParameters(recipe.searchParameters());
        // Every id the shard holds, through a candidate list as long as the shard.
        SearchResult all = index.search(new float[DIM], (int) index.ntotal(), (int) index.ntotal());
        for (long id : all.ids(0)) {
          assertNull(shardOf.put(id, s), "id " + id + " in two shards");
        }
      }
    }
    assertEquals(400, shardOf.size(), "every product in exactly one shard");
    for (ProductVector p : products) {
      try (FaissIndex index = FaissIndex.deserialize(bytesOf(built.shards().get(shardOf.get(p.id()))))) {
        index.setParameters(recipe.searchParameters());
        assertEquals(p.id(), index.search(p.vector(), 1).id(0, 0), p.sku());
      }
    }
  }

  @Test
  void largeModelsGetRefinedGraphShardsOverATrainedProjectionWithTheirSearchSettingsInTheFile() throws Exception {
    int dim = 256;
    List<ProductVector> products = products("acme", 600, 8, dim);
    IndexRecipe recipe = IndexRecipe.choose(600, dim, 100, 2_000_000, null, 4, 64);
    assertEquals("IDMap,PCA128,HNSW16,RFlat", recipe.factory());
    BuiltIndex built = new ShardBuilder(400, 1, scratch).build("acme", MODEL, products, dim, recipe, false);
    assertEquals(2, built.shards().size());
    assertTrue(built.trained(), "the projection was trained");
    float[] queries = vectorsOf(products.subList(0, 40), dim);
    int found = 0;
    for (BuiltIndex.Shard s : built.shards()) {
      try (FaissIndex asWritten = FaissIndex.deserialize(bytesOf(s));
          FaissIndex configured = FaissIndex.deserialize(bytesOf(s))) {
        configured.setParameters(recipe.searchParameters());
        SearchResult a = asWritten.search(queries, 5);
        SearchResult b = configured.search(queries, 5);
        for (int q = 0; q < 40; q++) {
          assertArrayEquals(b.ids(q), a.ids(q), "query " + q + ": the file carries efSearch and k_factor");
          if (a.id(q, 0) == products.get(q).id()) {
            found++;
            assertEquals(0, a.distance(q, 0), 1e-4, "rescored on the full vector: distance to itself is 0");
          }
        }
      }
    }
    assertEquals(40, found, "every product is found first in its own shard");
  }

  @Test
  void ivfShardsSplitByIdShareTheTrainingAndHoldEachProductOnce() throws Exception {
    List<ProductVector> products = products("acme", 400, 2);
    IndexRecipe recipe = IndexRecipe.choose(400, DIM, 100, 2_000_000, "IVF{nlist},Flat", 4, 64);
    assertEquals("IVF8,Flat", recipe.factory());
    BuiltIndex built = new ShardBuilder(150, 1, scratch).build("acme", MODEL, products, DIM, recipe, false);
    assertEquals(3, built.shards().size());
    Set<Long> all = new HashSet<>();
    int total = 0;
    for (BuiltIndex.Shard s : built.shards()) {
      Set<Long> ids = idsIn(bytesOf(s), recipe);
      assertEquals(s.vectors(), ids.size());
      total += ids.size();
      all.addAll(ids);
    }
    assertEquals(400, total);
    Set<Long> expected = new HashSet<>();
    products.forEach(p -> expected.add(p.id()));
    assertEquals(expected, all);
  }

  @Test
  void theSameCatalogBuildsTheSameBytes() throws Exception {
    List<ProductVector> products = products("acme", 400, 3);
    IndexRecipe recipe = IndexRecipe.choose(400, DIM, 100, 2_000_000, "IVF{nlist},Flat", 4, 64);
    List<ProductVector> shuffled = new ArrayList<>(products);
    java.util.Collections.shuffle(shuffled, new Random(9));
    BuiltIndex a = new ShardBuilder(1_000, 1, scratch).build("acme", MODEL, products, DIM, recipe, false);
    BuiltIndex b = new ShardBuilder(1_000, 1, scratch).build("acme", MODEL, shuffled, DIM, recipe, false);
    assertArrayEquals(bytesOf(a.shards().get(0)), bytesOf(b.shards().get(0)));
    assertArrayEquals(a.skuMap(), b.skuMap());
  }

  @Test
  void twoSkusWithOneIdFailTheBuildNamingBoth() {
    List<ProductVector> products = new ArrayList<>(products("acme", 3, 4));
    ProductVector clash = products.get(0);
    products.add(new ProductVector("impostor", clash.id(), MODEL, clash.vector(), 0));
    IndexRecipe recipe = IndexRecipe.choose(4, DIM, 20_000, 2_000_000, null, 16, 64);
    SkuIdCollisionException e = assertThrows(SkuIdCollisionException.class,
        () -> new ShardBuilder(1_000, 1, scratch).build("acme", MODEL, products, DIM, recipe, false));
    assertTrue(e.getMessage().contains("'sku-0'") && e.getMessage().contains("'impostor'"), e.getMessage());
  }

  @Test
  void laterBuildsReuseTheTenantsTrainingUntilTheCatalogDoublesOrARetrainIsAsked() throws Exception {
    ShardBuilder builder = new ShardBuilder(1_000, 1, scratch);
    List<ProductVector> products = products("acme", 800, 5);
    IndexRecipe recipe = IndexRecipe.choose(400, DIM, 100, 2_000_000, "IVF{nlist},Flat", 4, 64);
    assertTrue(builder.build("acme", MODEL, products.subList(0, 400), DIM, recipe, false).trained());

    BuiltIndex reused = builder.build("acme", MODEL, products.subList(1, 400), DIM, recipe, false);
    assertEquals(false, reused.trained());
    assertEquals(399, idsIn(bytesOf(reused.shards().get(0)), recipe).size());
    assertTrue(builder.build("other", MODEL, products.subList(1, 400), DIM, recipe, false).trained(),
        "trainings are per tenant");
    assertTrue(builder.build("acme", MODEL, products.subList(1, 400), DIM, recipe, true).trained());
    assertTrue(builder.build("acme", MODEL, products, DIM, recipe, false).trained(), "800 > 2 × 399");
    ModelKey v2 = new ModelKey("default", 2, "", "");
    assertTrue(builder.build("acme", v2, products, DIM, recipe, false).trained(), "another model trains anew");
  }

  /**
   * A tenant's training is kept only while its builds need one: one whose catalog shrank to the
   * exact tier, or was emptied, no longer holds its trained quantiser (tens of MB for IVF-PQ). Seen
   * from the next trainable build of the same recipe and catalog, which trains anew.
   */
  @Test
  void aBuildThatNeedsNoTrainingDropsTheTenantsTraining() throws Exception {
    ShardBuilder builder = new ShardBuilder(1_000, 1, scratch);
    IndexRecipe ivf = IndexRecipe.choose(400, DIM, 100, 2_000_000, "IVF{nlist},Flat", 4, 64);
    IndexRecipe flat = IndexRecipe.choose(50, DIM, 100, 2_000_000, null, 4, 64);
    IndexRecipe empty = IndexRecipe.choose(0, DIM, 100, 2_000_000, null, 4, 64);
    assertEquals("IDMap,Flat", flat.factory());
    assertEquals("IDMap,Flat", empty.factory());
    List<ProductVector> products = products("acme", 400, 5);
    assertTrue(builder.build("acme", MODEL, products, DIM, ivf, false).trained());
    assertFalse(builder.build("acme", MODEL, products, DIM, ivf, false).trained(), "kept while IVF is built");

    assertFalse(builder.build("acme", MODEL, products.subList(0, 50), DIM, flat, false).trained());
    assertTrue(builder.build("acme", MODEL, products, DIM, ivf, false).trained(), "dropped by the exact build");

    assertFalse(builder.build("acme", MODEL, List.of(), DIM, empty, false).trained());
    assertTrue(builder.build("acme", MODEL, products, DIM, ivf, false).trained(), "dropped by the emptied catalog");
  }

  @Test
  void productQuantisedShardsRankByL2AndShipTheirExactVectorsWhichRestoreTheTrueOrder() throws Exception {
    int dim = 256;
    int n = IndexRecipe.MIN_PQ_TRAINING + 16;
    List<ProductVector> products = clustered("acme", n, dim, 40, 6);
    IndexRecipe recipe = IndexRecipe.choose(n, dim, 100, n, null, 16, 64);
    assertEquals("PCAR165,IVF256,PQ55np", recipe.factory());
    BuiltIndex built = new ShardBuilder(100_000, 2, scratch).build("acme", MODEL, products, dim, recipe, false);
    List<ProductVector> queries = clustered("shoppers", 100, dim, 40, 6 + 1_000);
    BuiltIndex.ExactVectors exactFile = built.shards().get(0).exactVectors();
    try {
      assertEquals("shard-000.vectors", exactFile.fileName());

      try (FaissIndex exact = FaissIndex.create(dim, "IDMap,Flat", Metric.INNER_PRODUCT);
          FaissIndex pq = FaissIndex.deserialize(bytesOf(built.shards().get(0)));
          ShardVectors vectors = ShardVectors.open(exactFile.file(), dim, n)) {
        assertEquals(Metric.L2, pq.metric());
        byte[] full = bytesOf(built.shards().get(0));
        try (FaissIndex empty = FaissIndex.deserialize(full)) {
          empty.reset();
          double perVector = (full.length - empty.serialize().length) / (double) n;
          assertTrue(perVector <= 64, perVector + " bytes a vector (code, id and the lists' lengths)");
        }
        float[] row = new float[dim];
        for (ProductVector p : products) {
          assertTrue(vectors.read(p.id(), row));
          assertArrayEquals(p.vector(), row, p.sku());
        }
        exact.addWithIds(vectorsOf(products, dim), products.stream().mapToLong(ProductVector::id).toArray());
        pq.setParameters(recipe.searchParameters());
        SearchResult truth = exact.search(vectorsOf(queries, dim), 10);
        // What search-api does with a query that has no filters: k + 16 candidates, rescored.
        SearchResult candidates = pq.search(vectorsOf(queries, dim), 10 + ShardVectors.RESCORE_EXTRA_CANDIDATES);
        int codeHits = 0;
        int rescoredHits = 0;
        double codeScoreError = 0;
        for (int q = 0; q < queries.size(); q++) {
          Set<Long> want = new HashSet<>();
          for (long id : truth.ids(q)) {
            want.add(id);
          }
          // The squared L2 distance d between unit vectors is 2 - 2·cosine: search-api scores 1 - d/2.
          codeScoreError += Math.abs((1 - candidates.distance(q, 0) / 2)
              - cosine(queries.get(q), byId(products, candidates.id(q, 0))));
          List<long[]> scored = new ArrayList<>();
          long[] ids = candidates.ids(q);
          for (int rank = 0; rank < ids.length; rank++) {
            codeHits += rank < 10 && want.contains(ids[rank]) ? 1 : 0;
            assertTrue(vectors.read(ids[rank], row));
            scored.add(new long[] {ids[rank], Float.floatToIntBits(dot(queries.get(q).vector(), row))});
          }
          scored.sort((a, b) -> Float.compare(Float.intBitsToFloat((int) b[1]), Float.intBitsToFloat((int) a[1])));
          for (int rank = 0; rank < 10; rank++) {
            rescoredHits += want.contains(scored.get(rank)[0]) ? 1 : 0;
          }
          assertEquals(truth.distance(q, 0), Float.intBitsToFloat((int) scored.get(0)[1]), 1e-5,
              "the best rescored candidate has its exact cosine");
        }
        double codes = codeHits / (10.0 * queries.size());
        double rescored = rescoredHits / (10.0 * queries.size());
        assertTrue(codes >= 0.75, "recall@10 of the codes alone " + codes);
        double meanCodeScoreError = codeScoreError / queries.size();
        assertTrue(meanCodeScoreError < 0.02, "mean |1 - d/2 - cosine| " + meanCodeScoreError);
        assertTrue(rescored >= 0.95 && rescored > codes, "recall@10 rescored " + rescored + ", codes alone " + codes);
      }
    } finally {
      built.close();
    }
    assertFalse(Files.exists(exactFile.file()), "the temporary file goes with the build");
    assertFalse(Files.exists(built.shards().get(0).file()), "the shard's FAISS file too");
  }

  @Test
  void shardsWhoseScoresAreExactShipNoVectors() throws Exception {
    List<ProductVector> products = products("acme", 400, 2);
    for (String factory : new String[] {"IDMap,Flat", "IVF{nlist},Flat", "IDMap,HNSW32"}) {
      IndexRecipe recipe = IndexRecipe.choose(400, DIM, 100, 2_000_000, factory, 4, 64);
      try (BuiltIndex built = new ShardBuilder(1_000, 1, scratch).build("acme", MODEL, products, DIM, recipe, false)) {
        assertNull(built.shards().get(0).exactVectors(), factory);
      }
    }
    assertTrue(IndexRecipe.rescored("PCAR165,IVF256,PQ55np"));
    assertTrue(IndexRecipe.rescored("IVF256,SQ8"));
    assertFalse(IndexRecipe.rescored("IDMap,PCA128,HNSW16,RFlat"), "refines itself");
  }

  private static float dot(float[] a, float[] b) {
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d += (double) a[i] * b[i];
    }
    return (float) d;
  }

  /**
   * Unit vectors as a catalog's embeddings look: clustered by kind, and spread over far fewer
   * directions than the dimension (a 32-d latent space mapped into {@code dim}, plus a little
   * noise in every dimension).
   */
  static List<ProductVector> clustered(String tenant, int n, int dim, int clusters, long seed) {
    int latent = 32;
    Random fixed = new Random(42);
    float[][] centres = new float[clusters][latent];
    for (float[] centre : centres) {
      for (int j = 0; j < latent; j++) {
        centre[j] = (float) fixed.nextGaussian();
      }
    }
    float[][] map = new float[latent][dim];
    for (float[] row : map) {
      for (int j = 0; j < dim; j++) {
        row[j] = (float) fixed.nextGaussian();
      }
    }
    Random r = new Random(seed);
    List<ProductVector> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] centre = centres[r.nextInt(clusters)];
      float[] v = new float[dim];
      for (int k = 0; k < latent; k++) {
        float z = centre[k] + (float) (0.6 * r.nextGaussian());
        for (int j = 0; j < dim; j++) {
          v[j] += z * map[k][j];
        }
      }
      for (int j = 0; j < dim; j++) {
        v[j] += (float) (0.3 * r.nextGaussian());
      }
      String sku = "sku-" + i;
      out.add(new ProductVector(sku, SkuIds.id(tenant, sku), MODEL, unit(v), 0));
    }
    return out;
  }

  private static float[] unit(float[] v) {
    double norm = 0;
    for (float x : v) {
      norm += x * x;
    }
    for (int j = 0; j < v.length; j++) {
      v[j] /= (float) Math.sqrt(norm);
    }
    return v;
  }

  private static float[] vectorsOf(List<ProductVector> products, int dim) {
    float[] out = new float[products.size() * dim];
    for (int i = 0; i < products.size(); i++) {
      System.arraycopy(products.get(i).vector(), 0, out, i * dim, dim);
    }
    return out;
  }

  private static ProductVector byId(List<ProductVector> products, long id) {
    return products.stream().filter(p -> p.id() == id).findFirst().orElseThrow();
  }

  private static double cosine(ProductVector a, ProductVector b) {
    double dot = 0;
    for (int i = 0; i < a.vector().length; i++) {
      dot += (double) a.vector()[i] * b.vector()[i];
    }
    return dot;
  }

  @Test
  void shardsOfLargeVectorsAreSplitBeforeTheirFilesOutgrowAnArray() {
    IndexRecipe graph768 = IndexRecipe.choose(250_000, 768, 20_000, 2_000_000, null, 16, 64);
    assertEquals(1, ShardBuilder.shardCount(250_000, 250_000, 768, graph768), "the shipped model: by count alone");
    IndexRecipe graph2048 = IndexRecipe.choose(249_000, 2048, 20_000, 2_000_000, null, 16, 64);
    int shards = ShardBuilder.shardCount(249_000, 250_000, 2048, graph2048);
    assertEquals(3, shards);
    long perShard = (249_000L + shards - 1) / shards * ShardBuilder.estimatedBytesPerVector(2048, graph2048);
    assertTrue(perShard <= ShardBuilder.MAX_SHARD_BYTES, perShard + " bytes a shard");
    IndexRecipe pq = IndexRecipe.choose(1_000_000, 768, 20_000, 2_000_000, null, 16, 64);
    assertEquals(4, ShardBuilder.shardCount(1_000_000, 250_000, 768, pq), "quantised codes are small");
  }
}
