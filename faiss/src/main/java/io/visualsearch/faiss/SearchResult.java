package io.visualsearch.faiss;

import java.util.Arrays;

/**
 * The k nearest neighbours of each of n queries, best first. A query with fewer than k
 * reachable vectors has trailing id {@code -1} entries (FAISS's convention). Distances are
 * squared L2 for {@link Metric#L2} and dot products for {@link Metric#INNER_PRODUCT}.
 */
public final class SearchResult {
    private final int queries;
    private final int k;
    private final long[] ids;
    private final float[] distances;

    SearchResult(int queries, int k, long[] ids, float[] distances) {
        this.queries = queries;
        this.k = k;
        this.ids = ids;
        this.distances = distances;
    }

    public int queries() {
        return queries;
    }

    public int k() {
        return k;
    }

    /** Id of the {@code rank}-th neighbour of query {@code query}, or -1 when there is none. */
    public long id(int query, int rank) {
        return ids[offset(query, rank)];
    }

    public float distance(int query, int rank) {
        return distances[offset(query, rank)];
    }

    /** The k ids of one query, a copy. */
    public long[] ids(int query) {
        int from = offset(query, 0);
        return Arrays.copyOfRange(ids, from, from + k);
    }

    /** The k distances of one query, a copy. */
    public float[] distances(int query) {
        int from = offset(query, 0);
        return Arrays.copyOfRange(distances, from, from + k);
    }

    /** All ids, row-major n × k, a copy. */
    public long[] allIds() {
        return ids.clone();
    }

    /** All distances, row-major n × k, a copy. */
    public float[] allDistances() {
        return distances.clone();
    }

    private int offset(int query, int rank) {
        if (query < 0 || query >= queries) {
            throw new IndexOutOfBoundsException("query " + query + " of " + queries);
        }
        if (rank < 0 || rank >= k) {
            throw new IndexOutOfBoundsException("rank " + rank + " of k=" + k);
        }
        return query * k + rank;
    }
}
