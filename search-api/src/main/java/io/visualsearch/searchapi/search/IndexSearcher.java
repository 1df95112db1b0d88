package io.visualsearch.searchapi.search;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.OpenMpThreads;
import io.visualsearch.faiss.SearchResult;
import io.visualsearch.indexformat.ShardVectors;
import io.visualsearch.searchapi.fresh.CatalogView;
import io.visualsearch.searchapi.fresh.DeltaEntry;
import io.visualsearch.searchapi.fresh.FreshDelta;
import io.visualsearch.searchapi.fresh.ProductInfo;
import io.visualsearch.searchapi.index.LoadedIndex;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Answers one query against a tenant's served version: every shard (a quantised shard's
 * candidates rescored on its exact vectors) plus the exact search over the fresh delta, products
 * changed or deleted since the build hidden from the shards, products no longer in the catalog
 * dropped, filters applied, best k kept.
 *
 * <p>Filters are applied after the vector search, so a selective filter would leave fewer than k
 * results if only k candidates were fetched. The searcher therefore over-fetches: it starts with
 * a candidate list a few times k and, while fewer than k results survive and a shard may still
 * hold more, asks again with a list four times longer, up to {@code maxFetch} per shard. On a
 * flat index this finds exactly the filtered top k whenever the matches lie within maxFetch
 * candidates (measured in IndexSearcherTest and RATIONALE.md).
 */
public final class IndexSearcher {

  private static final int GROWTH = 4;

  private final CatalogView catalog;
  private final Tracer tracer;
  private final int maxFetch;
  private final ThreadLocal<Boolean> ompConfigured = ThreadLocal.withInitial(() -> false);

  public IndexSearcher(CatalogView catalog, Tracer tracer, int maxFetch) {
    this.catalog = catalog;
    this.tracer = tracer;
    this.maxFetch = maxFetch;
  }

  /** The candidate list length of the first round. */
  static int initialFetch(int k, Filters filters) {
    return filters.isEmpty() ? k + ShardVectors.RESCORE_EXTRA_CANDIDATES : Math.max(4 * k, 64);
  }

  /**
   * @param query the raw query vector (prepared here for the index's vector space)
   * @param excludeSku a product never returned (the product itself, for "similar items"), or null
   */
  public SearchAnswer search(LoadedIndex index, FreshDelta.Snapshot delta, float[] query, int k, Filters filters,
      String excludeSku) {
    if (query.length != index.dimension()) {
      throw new DimensionMismatchException("query vector has " + query.length + " dimensions, index "
          + index.tenant() + "/" + index.version() + " has " + index.dimension());
    }
    configureOpenMp();
    float[] q = index.space().prepare(query);
    String tenant = index.tenant();
    List<SearchHit> fresh = new ArrayList<>();
    for (DeltaEntry e : delta.searchable()) {
      SearchHit hit = admit(tenant, e.sku(), index.space().exactScore(q, e.vector()), filters, excludeSku);
      if (hit != null) {
        fresh.add(hit);
      }
    }
    int fetch = Math.min(initialFetch(k, filters), maxFetch);
    while (true) {
      Map<String, SearchHit> best = new HashMap<>();
      List<Pending> toRescore = new ArrayList<>();
      boolean mayHoldMore = false;
      List<FaissIndex> shards = index.shards();
      for (int s = 0; s < shards.size(); s++) {
        FaissIndex shard = shards.get(s);
        int kk = (int) Math.min(fetch, shard.ntotal());
        if (kk == 0) {
          continue;
        }
        SearchResult r;
        Span span = tracer.spanBuilder("search shard " + s).setAttribute("shard", s).setAttribute("k", kk)
            .setAttribute("index.version", index.version()).startSpan();
        try (Scope ignored = span.makeCurrent()) {
          // FAISS's HNSW does not widen its candidate list to k: an over-fetch past the manifest's
          // efSearch walks a list of kk, per search, or it would find only part of the kk.
          r = kk > index.graphCandidates() && index.graphCandidates() > 0 ? shard.search(q, kk, kk)
              : shard.search(q, kk);
        } finally {
          span.end();
        }
        if (kk == fetch && r.id(0, kk - 1) >= 0) {
          mayHoldMore = true;
        }
        ShardVectors exact = index.exactVectors(s);
        for (int rank = 0; rank < kk; rank++) {
          long id = r.id(0, rank);
          if (id < 0) {
            break;
          }
          String sku = index.sku(id);
          if (sku == null || delta.hidden().contains(sku)) {
            continue;
          }
          SearchHit hit = admit(tenant, sku, index.space().score(r.distance(0, rank)), filters, excludeSku);
          if (hit != null && exact != null) {
            toRescore.add(new Pending(exact, id, hit));
          } else if (hit != null) {
            best.merge(sku, hit, (a, b) -> a.score() >= b.score() ? a : b);
          }
        }
      }
      rescore(index, q, toRescore, fetch, best);
      List<SearchHit> merged;
      Span mergeSpan = tracer.spanBuilder("merge").setAttribute("fetch", fetch).startSpan();
      try {
        for (SearchHit h : fresh) {
          best.merge(h.sku(), h, (a, b) -> a.score() >= b.score() ? a : b);
        }
        merged = new ArrayList<>(best.values());
        merged.sort(Comparator.comparingDouble(SearchHit::score).reversed().thenComparing(SearchHit::sku));
        if (merged.size() > k) {
          merged = new ArrayList<>(merged.subList(0, k));
        }
        mergeSpan.setAttribute("results", merged.size());
      } finally {
        mergeSpan.end();
      }
      if (merged.size() >= k || !mayHoldMore || fetch >= maxFetch) {
        return new SearchAnswer(List.copyOf(merged), index.version(), index.modelVersion(), fetch);
      }
      fetch = (int) Math.min((long) fetch * GROWTH, maxFetch);
    }
  }

  /** A quantised shard's admitted candidate, scored by its code, waiting to be rescored. */
  private record Pending(ShardVectors vectors, long id, SearchHit byCode) {}

  /**
   * Rescores the best {@code fetch} candidates of the quantised shards, by their codes' scores,
   * on their exact vectors, so near ties among the true nearest come out in their exact order
   * (the codes alone keep them in code order; index-builder/RATIONALE.md). All shards share one
   * training, so code scores compare across shards, and the rows read per query stay {@code
   * fetch} however many shards a tenant has.
   */
  private void rescore(LoadedIndex index, float[] q, List<Pending> pending, int fetch, Map<String, SearchHit> best) {
    if (pending.isEmpty()) {
      return;
    }
    pending.sort(Comparator.comparingDouble((Pending p) -> p.byCode().score()).reversed());
    List<Pending> chosen = pending.size() > fetch ? pending.subList(0, fetch) : pending;
    Span span = tracer.spanBuilder("rescore").setAttribute("candidates", chosen.size())
        .setAttribute("index.version", index.version()).startSpan();
    try (Scope ignored = span.makeCurrent()) {
      float[] row = new float[index.dimension()];
      for (Pending p : chosen) {
        SearchHit hit = p.byCode();
        if (p.vectors().read(p.id(), row)) {
          hit = new SearchHit(hit.sku(), index.space().exactScore(q, row), hit.product());
        }
        best.merge(hit.sku(), hit, (a, b) -> a.score() >= b.score() ? a : b);
      }
    } catch (IOException e) {
      span.recordException(e);
      throw new UncheckedIOException("cannot read the exact vectors of " + index.tenant() + "/" + index.version(), e);
    } finally {
      span.end();
    }
  }

  private SearchHit admit(String tenant, String sku, float score, Filters filters, String excludeSku) {
    if (sku.equals(excludeSku)) {
      return null;
    }
    ProductInfo product = catalog.get(tenant, sku);
    if (product == null) {
      if (catalog.caughtUp() || !filters.isEmpty()) {
        // Left the feed (or, during the start-up replay, cannot be checked against filters).
        return null;
      }
      product = new ProductInfo(sku, "", 0, "", "", "", "", "", "");
    } else if (!filters.matches(product)) {
      return null;
    }
    return new SearchHit(sku, score, product);
  }

  /** Parallelism comes from concurrent requests; one OpenMP thread per request thread avoids oversubscription. */
  private void configureOpenMp() {
    if (!ompConfigured.get()) {
      OpenMpThreads.setForCurrentThread(1);
      ompConfigured.set(true);
    }
  }

  /** The query and the index come from different models or configurations: an operator problem. */
  public static final class DimensionMismatchException extends RuntimeException {
    public DimensionMismatchException(String message) {
      super(message);
    }
  }
}
