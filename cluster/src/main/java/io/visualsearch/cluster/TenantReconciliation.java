package io.visualsearch.cluster;

import java.util.List;

/**
 * One tenant's published index against its feed.
 *
 * @param expected products in the feed
 * @param found feed products present in the published index (skus.tsv of the CURRENT version)
 * @param lost feed products absent from it
 * @param extra indexed products no longer in the feed (removed but still served)
 * @param staleModel found products whose index was built by another model version than the served one
 * @param staleVector found products whose indexed vector is not the embedding of their current photo
 * @param staleContent products whose search answer (own photo, top 10) is missing or shows another
 *     title or price than the feed; -1 when not checked
 * @param duplicate extra skus.tsv lines for one product plus extra vectors under one product's id
 */
public record TenantReconciliation(String tenant, String indexVersion, int expected, int found, int lost, int extra,
    int staleModel, int staleVector, int staleContent, int duplicate, List<String> examples) {

  /** Everything out of date: wrong model, wrong vector, wrong answer content, or removed yet still indexed. */
  public int stale() {
    return staleModel + staleVector + Math.max(0, staleContent) + extra;
  }

  public boolean clean() {
    return lost == 0 && stale() == 0 && duplicate == 0;
  }

  public String line() {
    return "tenant=" + tenant + " index=" + indexVersion + " expected=" + expected + " found=" + found + " lost=" + lost
        + " extra=" + extra + " stale_model=" + staleModel + " stale_vector=" + staleVector + " stale_content="
        + (staleContent < 0 ? "unchecked" : Integer.toString(staleContent)) + " duplicate=" + duplicate
        + (examples.isEmpty() ? "" : " e.g. " + String.join("; ", examples));
  }
}
