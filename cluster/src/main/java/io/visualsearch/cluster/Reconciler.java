package io.visualsearch.cluster;

import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.Metric;
import io.visualsearch.faiss.SearchResult;
import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.SkuMap;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.StoredObject;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Exact reconciliation of what is published against what the feeds say, read the way search-api
 * reads it: {@code indexes/<tenant>/CURRENT} → manifest → skus.tsv and the FAISS shards. For every
 * feed product: is it in the index (lost otherwise), once (duplicate otherwise), built by the
 * served model version, and is its vector the embedding of its current photo — checked by
 * searching the shards with the expected vector: the product's id must come back at
 * self-similarity (cosine ≥ 1−1e-3, or L2 ≤ 1e-3·|q|²). Products indexed but no longer in the feed
 * count as stale. Optionally, every product's own photo is queried through search-api and the
 * answer must list it with the feed's title and price (content freshness as a shopper sees it).
 */
public final class Reconciler {

  private static final Pattern IVF_LISTS = Pattern.compile("IVF([0-9]+)");
  private static final double COSINE_TOLERANCE = 1e-3;
  private static final int EXAMPLES = 3;

  private final ObjectStore store;
  private final ExpectedVectors vectors;
  private final SampleCatalog catalog;
  private final IndexJson json = new IndexJson();

  public Reconciler(ObjectStore store, ExpectedVectors vectors, SampleCatalog catalog) {
    this.store = store;
    this.vectors = vectors;
    this.catalog = catalog;
  }

  /** Index-level checks only (cheap: no queries); what convergence polling uses. */
  public Reconciliation indexOnly(List<TenantFeed> feeds) throws Exception {
    return reconcile(feeds, null, Map.of());
  }

  /** Index-level checks plus every product's answer through search-api. */
  public Reconciliation reconcile(List<TenantFeed> feeds, SearchClient search, Map<String, String> apiKeys)
      throws Exception {
    long served = vectors.servedVersion();
    List<TenantReconciliation> out = new ArrayList<>();
    for (TenantFeed feed : feeds) {
      out.add(tenant(feed, served, search, apiKeys.get(feed.tenant())));
    }
    return new Reconciliation(out);
  }

  private TenantReconciliation tenant(TenantFeed feed, long served, SearchClient search, String apiKey)
      throws Exception {
    String tenant = feed.tenant();
    List<String> skus = feed.skus();
    List<String> examples = new ArrayList<>();
    Optional<StoredObject> pointer = store.get(IndexLayout.currentPointer(tenant));
    if (pointer.isEmpty()) {
      return new TenantReconciliation(tenant, "none", skus.size(), 0, skus.size(), 0, 0, 0, -1, 0,
          List.of("no CURRENT pointer"));
    }
    CurrentPointer current = json.pointer(pointer.get().bytes());
    IndexManifest manifest = json.manifest(bytes(current.manifestKey()));
    // How many vectors each sku has: more than one is a duplicate.
    Map<String, Integer> lines = new HashMap<>();
    for (String sku : SkuMap.parse(bytes(IndexLayout.file(tenant, manifest.version(), manifest.skuMap().file())))
        .values()) {
      lines.merge(sku, 1, Integer::sum);
    }
    int duplicate = lines.values().stream().mapToInt(n -> n - 1).sum();
    Set<String> inFeed = new LinkedHashSet<>(skus);
    List<String> found = skus.stream().filter(lines::containsKey).toList();
    int lost = skus.size() - found.size();
    sample(examples, skus.stream().filter(s -> !lines.containsKey(s)).toList(), "lost ");
    List<String> extra = lines.keySet().stream().filter(s -> !inFeed.contains(s)).sorted().toList();
    sample(examples, extra, "still indexed after removal ");
    int staleModel = manifest.modelVersion() == served ? 0 : found.size();
    if (staleModel > 0) {
      examples.add("index model version " + manifest.modelVersion() + " but served " + served);
    }
    int[] vectorCheck = checkVectors(feed, manifest, found, served, examples);
    int staleContent = search == null ? -1 : checkAnswers(feed, search, apiKey, examples);
    return new TenantReconciliation(tenant, manifest.version(), skus.size(), found.size(), lost, extra.size(),
        staleModel, vectorCheck[0], staleContent, duplicate + vectorCheck[1], examples);
  }

  /** Returns {stale vectors, duplicate vectors} over the found products. */
  private int[] checkVectors(TenantFeed feed, IndexManifest manifest, List<String> found, long served,
      List<String> examples) throws Exception {
    if (found.isEmpty()) {
      return new int[] {0, 0};
    }
    Set<Integer> images = new HashSet<>();
    for (String sku : found) {
      images.add(feed.imageIndex(sku));
    }
    Map<Integer, float[]> expected = vectors.vectors(images, served);
    boolean cosine = "cosine".equalsIgnoreCase(manifest.metric());
    int d = manifest.dimension();
    float[] queries = new float[found.size() * d];
    for (int q = 0; q < found.size(); q++) {
      float[] v = expected.get(feed.imageIndex(found.get(q)));
      if (v.length != d) {
        throw new IllegalStateException("served model has dimension " + v.length + ", index " + d);
      }
      System.arraycopy(cosine ? normalised(v) : v, 0, queries, q * d, d);
    }
    int[] matches = new int[found.size()];
    for (IndexManifest.ShardFile shard : manifest.shards()) {
      try (FaissIndex index = FaissIndex.deserialize(bytes(IndexLayout.file(feed.tenant(), manifest.version(), shard.file())))) {
        if (index.ntotal() == 0) {
          continue;
        }
        Matcher ivf = IVF_LISTS.matcher(manifest.factory() == null ? "" : manifest.factory());
        if (ivf.find()) {
          index.setParameters("nprobe=" + ivf.group(1)); // every list: the check must not miss by design
        }
        int k = (int) Math.min(10, index.ntotal());
        // HNSW: a candidate list far past what the builder asks readers to walk, per search.
        SearchResult r = manifest.graphIndex() ? index.search(queries, k, (int) Math.min(index.ntotal(), 1024) + k)
            : index.search(queries, k);
        boolean innerProduct = index.metric() == Metric.INNER_PRODUCT;
        for (int q = 0; q < found.size(); q++) {
          long id = SkuIds.id(feed.tenant(), found.get(q));
          float self = selfScore(queries, q, d);
          for (int rank = 0; rank < k; rank++) {
            if (r.id(q, rank) == id && matchesSelf(r.distance(q, rank), self, innerProduct)) {
              matches[q]++;
            }
          }
        }
      }
    }
    int stale = 0;
    int duplicate = 0;
    List<String> staleSkus = new ArrayList<>();
    for (int q = 0; q < found.size(); q++) {
      if (matches[q] == 0) {
        stale++;
        staleSkus.add(found.get(q));
      } else {
        duplicate += matches[q] - 1;
      }
    }
    sample(examples, staleSkus, "vector is not the current photo's ");
    return new int[] {stale, duplicate};
  }

  /** The query's inner product with itself (1 for a normalised query). */
  private static float selfScore(float[] queries, int q, int d) {
    float s = 0;
    for (int i = 0; i < d; i++) {
      s += queries[q * d + i] * queries[q * d + i];
    }
    return s;
  }

  /** Inner product: within the tolerance of the self product; L2: within it of distance 0. */
  private static boolean matchesSelf(float distance, float self, boolean innerProduct) {
    return innerProduct ? distance >= self * (1 - COSINE_TOLERANCE) : distance <= COSINE_TOLERANCE * self;
  }

  private static float[] normalised(float[] v) {
    double n = 0;
    for (float x : v) {
      n += x * x;
    }
    float inv = (float) (1 / Math.max(Math.sqrt(n), 1e-12));
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] * inv;
    }
    return out;
  }

  /** Every feed product's own photo through search-api: listed, with the feed's title and price. */
  private int checkAnswers(TenantFeed feed, SearchClient search, String apiKey, List<String> examples)
      throws Exception {
    int stale = 0;
    List<String> bad = new ArrayList<>();
    for (String sku : feed.skus()) {
      SearchClient.Answer a = search.search(apiKey, catalog.png(feed.imageIndex(sku)), 10);
      SearchClient.Hit hit = a.hits().stream().filter(h -> h.sku().equals(sku)).findFirst().orElse(null);
      String problem = null;
      if (!a.ok()) {
        problem = sku + " query failed: " + a.error();
      } else if (hit == null) {
        problem = sku + " not in its own photo's top 10";
      } else if (!hit.title().equals(feed.title(sku))) {
        problem = sku + " title '" + hit.title() + "' vs feed '" + feed.title(sku) + "'";
      } else if (!samePrice(hit.price(), feed.effectivePrice(sku))) {
        problem = sku + " price '" + hit.price() + "' vs feed " + feed.effectivePrice(sku);
      }
      if (problem != null) {
        stale++;
        bad.add(problem);
      }
    }
    sample(examples, bad, "answer: ");
    return stale;
  }

  private static boolean samePrice(String text, BigDecimal expected) {
    if (text == null || text.isBlank()) {
      return false;
    }
    try {
      return new BigDecimal(text.split(" ")[0]).compareTo(expected) == 0;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private byte[] bytes(String key) {
    return store.get(key).orElseThrow(() -> new IllegalStateException("missing object " + key)).bytes();
  }

  private static void sample(List<String> examples, List<String> items, String prefix) {
    for (int i = 0; i < Math.min(EXAMPLES, items.size()); i++) {
      examples.add(prefix + items.get(i));
    }
  }
}
