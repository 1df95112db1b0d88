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
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToLongFunction;

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
 * candidates (measured in IndexSearcherTest and RATIONALE.md). A graph shard walks a candidate
 * list as long as the list asked; an inverted-file shard probes lists in proportion to it, and
 * more again when the lists it probed held fewer vectors than it asked for. When a shard still
 * answers a full list at {@code maxFetch} and fewer than k survive, every product the filter
 * matches is scored exactly instead ({@link FilterMatchScorer}), up to a bound on their number.
 * Products sharing one
 * picture count once ({@link #onePerPicture}), so the same loop fetches past a picture's other
 * products as past those a filter drops.
 */
public final class IndexSearcher {

  private static final int GROWTH = 4;

  private final CatalogView catalog;
  private final Tracer tracer;
  private final int maxFetch;
  private final FilterMatchScorer filterMatches;
  private final ThreadLocal<Boolean> ompConfigured = ThreadLocal.withInitial(() -> false);

  /**
   * @param maxFetch the longest candidate list asked from one shard
   * @param maxFilterMatches the most products a filter may match for them all to be scored exactly
   *     when over-fetching up to {@code maxFetch} found fewer than k; 0: never
   */
  public IndexSearcher(CatalogView catalog, Tracer tracer, int maxFetch, int maxFilterMatches) {
    this.catalog = catalog;
    this.tracer = tracer;
    this.maxFetch = maxFetch;
    this.filterMatches = new FilterMatchScorer(catalog, maxFilterMatches);
  }

  /** The candidate list length of the first round. */
  static int initialFetch(int k, Filters filters) {
    return filters.isEmpty() ? k + ShardVectors.RESCORE_EXTRA_CANDIDATES : Math.max(4 * k, 64);
  }

  /**
   * @param query the raw query vector (prepared here for the index's vector space)
   * @param excludeSku a product never returned, nor another product of its picture (the product
   *     itself, for "similar items"), or null
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
    // A product in the delta is hidden from the shards: its picture is its entry's. Kept for the
    // hits and the excluded product only, the ones a picture is asked of.
    Map<String, Long> freshPictures = new HashMap<>();
    for (DeltaEntry e : delta.searchable()) {
      SearchHit hit = admit(tenant, e.sku(), index.space().exactScore(q, e.vector()), filters, excludeSku);
      if (hit != null) {
        fresh.add(hit);
        freshPictures.put(e.sku(), e.imageKey());
      } else if (e.sku().equals(excludeSku)) {
        freshPictures.put(e.sku(), e.imageKey());
      }
    }
    ToLongFunction<String> pictureOf = sku -> {
      Long key = freshPictures.get(sku);
      return key != null ? key : index.imageKeyOf(sku);
    };
    long ownPicture = excludeSku == null ? 0 : pictureOf.applyAsLong(excludeSku);
    int fetch = Math.min(initialFetch(k, filters), maxFetch);
    List<FaissIndex> shards = index.shards();
    // Per shard, the inverted lists its next search probes; 0: the index's own nprobe.
    int[] probes = new int[shards.size()];
    ProbeableLists lists = new ProbeableLists(shards);
    int unfilteredFetch = initialFetch(k, Filters.NONE);
    while (true) {
      Map<String, SearchHit> best = new HashMap<>();
      List<Pending> toRescore = new ArrayList<>();
      boolean mayHoldMore = false;
      // A shard still answering a full list at the longest list asked: matches may lie past it.
      boolean capped = false;
      for (int s = 0; s < shards.size(); s++) {
        FaissIndex shard = shards.get(s);
        int kk = (int) Math.min(fetch, shard.ntotal());
        if (kk == 0) {
          continue;
        }
        if (fetch > unfilteredFetch && lists.of(s) > 0) {
          probes[s] = Math.max(probes[s], proportionalProbes(index.probedLists(), fetch, unfilteredFetch, lists.of(s)));
        }
        SearchResult r;
        Span span = tracer.spanBuilder("search shard " + s).setAttribute("shard", s).setAttribute("k", kk)
            .setAttribute("index.version", index.version()).startSpan();
        try (Scope ignored = span.makeCurrent()) {
          if (probes[s] > 0) {
            span.setAttribute("nprobe", probes[s]);
            r = shard.searchProbing(q, kk, probes[s]);
          } else {
            // FAISS's HNSW does not widen its candidate list to k: an over-fetch past the manifest's
            // efSearch walks a list of kk, per search, or it would find only part of the kk.
            r = kk > index.graphCandidates() && index.graphCandidates() > 0 ? shard.search(q, kk, kk)
                : shard.search(q, kk);
          }
        } finally {
          span.end();
        }
        int found = found(r, kk);
        if (kk == fetch && found == kk) {
          if (fetch < maxFetch) {
            mayHoldMore = true;
          } else {
            capped = true;
          }
        }
        if (found < kk) {
          // An inverted file finds only what its probed lists hold and pads the rest with -1: not
          // the end of the shard while it has lists left to probe.
          int wider = widerProbes(probes[s] > 0 ? probes[s] : index.probedLists(), lists.of(s));
          if (wider > 0) {
            probes[s] = wider;
            mayHoldMore = true;
          }
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
            keepBetter(best, hit);
          }
        }
      }
      rescore(index, q, toRescore, fetch, best);
      List<SearchHit> merged;
      Span mergeSpan = tracer.spanBuilder("merge").setAttribute("fetch", fetch).startSpan();
      try {
        for (SearchHit h : fresh) {
          keepBetter(best, h);
        }
        merged = ranked(best, k, pictureOf, ownPicture);
        mergeSpan.setAttribute("results", merged.size());
      } finally {
        mergeSpan.end();
      }
      if (merged.size() < k && !mayHoldMore && capped && !filters.isEmpty()) {
        scoreFilterMatches(index, q, filters, excludeSku, delta, best);
        merged = ranked(best, k, pictureOf, ownPicture);
      }
      if (merged.size() >= k || !mayHoldMore) {
        return new SearchAnswer(List.copyOf(merged), index.version(), index.modelVersion(), fetch);
      }
      fetch = (int) Math.min((long) fetch * GROWTH, maxFetch);
    }
  }

  /** Keeps the better scored of a product's hits (a shard's, the delta's, an exact rescoring). */
  private static void keepBetter(Map<String, SearchHit> best, SearchHit hit) {
    best.merge(hit.sku(), hit, (a, b) -> a.score() >= b.score() ? a : b);
  }

  private static List<SearchHit> ranked(Map<String, SearchHit> best, int k, ToLongFunction<String> pictureOf,
      long ownPicture) {
    List<SearchHit> all = new ArrayList<>(best.values());
    all.sort(Comparator.comparingDouble(SearchHit::score).reversed().thenComparing(SearchHit::sku));
    return onePerPicture(all, k, pictureOf, ownPicture);
  }

  /**
   * Adds to {@code best} every product the filter matches that the version holds, exactly scored
   * ({@link FilterMatchScorer}): the over-fetch reached its cap with fewer than k matches.
   */
  private void scoreFilterMatches(LoadedIndex index, float[] q, Filters filters, String excludeSku,
      FreshDelta.Snapshot delta, Map<String, SearchHit> best) {
    Span span = tracer.spanBuilder("score filter matches").setAttribute("index.version", index.version()).startSpan();
    try (Scope ignored = span.makeCurrent()) {
      FilterMatchScorer.Scored scored = filterMatches.score(index, q, filters,
          sku -> sku.equals(excludeSku) || best.containsKey(sku) || delta.hidden().contains(sku));
      span.setAttribute("matches", scored.matches()).setAttribute("scored", scored.hits().size());
      for (SearchHit hit : scored.hits()) {
        keepBetter(best, hit);
      }
    } catch (IOException e) {
      span.recordException(e);
      throw new UncheckedIOException("cannot read the exact vectors of " + index.tenant() + "/" + index.version(), e);
    } finally {
      span.end();
    }
  }

  /**
   * The first {@code k} of {@code ranked} (best first) whose picture is neither {@code ownPicture}
   * nor that of one kept before. A feed lists each size of a dress as its own product with the
   * dress's one image, embedded once into one vector: a photo of the dress got every size as a
   * card, half the answer the same picture. An unknown picture (key 0) is nobody's duplicate.
   * Fewer than k kept makes the caller fetch more, as for filters.
   */
  static List<SearchHit> onePerPicture(List<SearchHit> ranked, int k, ToLongFunction<String> pictureOf,
      long ownPicture) {
    List<SearchHit> kept = new ArrayList<>(Math.min(k, ranked.size()));
    Set<Long> shown = new HashSet<>();
    if (ownPicture != 0) {
      shown.add(ownPicture);
    }
    for (SearchHit hit : ranked) {
      if (kept.size() == k) {
        break;
      }
      long picture = pictureOf.applyAsLong(hit.sku());
      if (picture == 0 || shown.add(picture)) {
        kept.add(hit);
      }
    }
    return kept;
  }

  /** The results of one search that are vectors, not FAISS's -1 padding (which comes last). */
  private static int found(SearchResult r, int kk) {
    int n = 0;
    while (n < kk && r.id(0, n) >= 0) {
      n++;
    }
    return n;
  }

  /**
   * The lists an inverted-file shard probes for a list of {@code fetch} candidates: the manifest's
   * {@code nprobe} is what the builder measured recall with for an unfiltered query's list
   * ({@code unfilteredFetch}), so a longer list probes proportionally more, up to all {@code lists}.
   * A filtered query's nearest matches lie as far out as an unfiltered query's nearest {@code
   * fetch}: with the manifest's nprobe a rare filter found what the nearest lists held, not them.
   */
  static int proportionalProbes(int nprobe, int fetch, int unfilteredFetch, int lists) {
    long probes = ((long) nprobe * fetch + unfilteredFetch - 1) / unfilteredFetch;
    return (int) Math.min(probes, lists);
  }

  /** {@link #GROWTH} times the lists {@code probed}, up to all {@code lists}; 0 when none are left. */
  static int widerProbes(int probed, int lists) {
    return probed >= lists ? 0 : (int) Math.min((long) probed * GROWTH, lists);
  }

  /** Per shard, the lists a search may choose to probe ({@link FaissIndex#probeableLists}), asked once. */
  private static final class ProbeableLists {
    private final List<FaissIndex> shards;
    private final int[] lists;

    ProbeableLists(List<FaissIndex> shards) {
      this.shards = shards;
      this.lists = new int[shards.size()];
      Arrays.fill(lists, -1);
    }

    int of(int shard) {
      if (lists[shard] < 0) {
        lists[shard] = shards.get(shard).probeableLists();
      }
      return lists[shard];
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
        keepBetter(best, hit);
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
