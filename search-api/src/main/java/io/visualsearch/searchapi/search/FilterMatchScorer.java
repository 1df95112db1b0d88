package io.visualsearch.searchapi.search;

import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.indexformat.ShardVectors;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.searchapi.fresh.CatalogView;
import io.visualsearch.searchapi.fresh.ProductInfo;
import io.visualsearch.searchapi.index.LoadedIndex;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Scores exactly every product a filter matches, for the query whose over-fetch reached its cap
 * with fewer than k matches: on a large catalog a filter matching a few hundred products finds
 * few of them among each shard's nearest {@code SEARCH_MAX_FETCH}, and the answer was short
 * without saying so. Those products come from the catalog (a scan of the tenant's products),
 * their vectors from the served version: a quantised shard's file of exact vectors, any other
 * shard's own storage ({@link FaissIndex#exactDistances}).
 */
final class FilterMatchScorer {

  private final CatalogView catalog;
  private final int maxMatches;

  /** @param maxMatches the most matching products scored; a filter matching more is left to the over-fetch */
  FilterMatchScorer(CatalogView catalog, int maxMatches) {
    this.catalog = catalog;
    this.maxMatches = maxMatches;
  }

  /** What one scoring found: the hits, and how many products the filter matched (-1: more than allowed). */
  record Scored(List<SearchHit> hits, int matches) {}

  /**
   * Hits, exactly scored, for the products of the index's tenant that {@code filters} match, that
   * {@code skip} does not reject (already scored, hidden by the fresh delta, excluded) and that
   * the served version holds.
   */
  Scored score(LoadedIndex index, float[] preparedQuery, Filters filters, Predicate<String> skip) throws IOException {
    if (maxMatches == 0) {
      return new Scored(List.of(), -1);
    }
    List<ProductInfo> matches = catalog.matching(index.tenant(), filters::matches, maxMatches);
    if (matches == null) {
      return new Scored(List.of(), -1);
    }
    List<ProductInfo> wanted = new ArrayList<>();
    List<Long> wantedIds = new ArrayList<>();
    for (ProductInfo p : matches) {
      if (skip.test(p.sku())) {
        continue;
      }
      long id = SkuIds.id(index.tenant(), p.sku());
      if (p.sku().equals(index.sku(id))) {
        wanted.add(p);
        wantedIds.add(id);
      }
    }
    float[] scores = new float[wanted.size()];
    boolean[] found = new boolean[wanted.size()];
    int shards = index.shards().size();
    float[] row = new float[index.dimension()];
    for (int i = 0; i < wanted.size(); i++) {
      long id = wantedIds.get(i);
      // The builder splits a tenant by id modulo the shard count: that shard first, then the rest.
      int preferred = (int) Math.floorMod(id, (long) shards);
      for (int j = 0; j < shards && !found[i]; j++) {
        ShardVectors exact = index.exactVectors((preferred + j) % shards);
        if (exact != null && exact.read(id, row)) {
          scores[i] = index.space().exactScore(preparedQuery, row);
          found[i] = true;
        }
      }
    }
    for (int s = 0; s < shards; s++) {
      if (index.exactVectors(s) != null) {
        continue;
      }
      List<Integer> open = new ArrayList<>();
      for (int i = 0; i < wanted.size(); i++) {
        if (!found[i]) {
          open.add(i);
        }
      }
      if (open.isEmpty()) {
        break;
      }
      long[] ids = open.stream().mapToLong(wantedIds::get).toArray();
      float[] distances;
      try {
        distances = index.shards().get(s).exactDistances(preparedQuery, ids);
      } catch (UnsupportedOperationException e) {
        continue; // an operator's recipe keeping only codes: those products stay unscored
      }
      for (int j = 0; j < ids.length; j++) {
        if (!Float.isNaN(distances[j])) {
          scores[open.get(j)] = index.space().score(distances[j]);
          found[open.get(j)] = true;
        }
      }
    }
    List<SearchHit> hits = new ArrayList<>();
    for (int i = 0; i < wanted.size(); i++) {
      if (found[i]) {
        hits.add(new SearchHit(wanted.get(i).sku(), scores[i], wanted.get(i)));
      }
    }
    return new Scored(hits, matches.size());
  }
}
