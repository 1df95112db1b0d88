package io.visualsearch.evaluation;

import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.Metric;
import io.visualsearch.faiss.SearchResult;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * The gallery of one model in an exact FAISS inner-product index (cosine on unit vectors), and the
 * measurements made against it: the full-ranking metrics, exact-item recall, query throughput, and
 * how much an approximate index loses. Owns the native index until {@link #close()}.
 */
public final class GalleryIndex implements AutoCloseable {

  private static final int TOP = 10;

  private final Features gallery;
  private final int[] galleryLabels;
  private final int categories;
  private final FaissIndex exact;

  public GalleryIndex(Features gallery, int[] galleryLabels, int categories) {
    if (gallery.count() != galleryLabels.length) {
      throw new IllegalArgumentException(gallery.count() + " vectors but " + galleryLabels.length + " labels");
    }
    this.gallery = gallery;
    this.galleryLabels = galleryLabels;
    this.categories = categories;
    this.exact = FaissIndex.create(gallery.dim(), "Flat", Metric.INNER_PRODUCT);
    exact.add(gallery.rows());
  }

  /** Ranks the whole gallery for every query; a gallery item is relevant when its label matches. */
  public RankingQuality rank(Features queries, int[] queryLabels) {
    checkDim(queries);
    int[] relevantCount = new int[categories];
    for (int label : galleryLabels) {
      relevantCount[label]++;
    }
    int n = queries.count();
    int galleryCount = gallery.count();
    double[] ap = new double[n];
    double[] p10 = new double[n];
    double[] curve = new double[RankingQuality.RECALL_STEPS + 1];
    int[][] top = new int[n][];
    // The full ranking by one sort per query: FAISS with k = the whole gallery keeps a heap of that
    // size per query and took minutes on the full protocol. Top-k searches below still use FAISS.
    // Only this method needs the gallery as a TensorFlow tensor, so it holds that copy while it runs.
    try (InnerProducts products = new InnerProducts(gallery)) {
      for (int first = 0; first < n; first += FullRanking.CHUNK) {
        int size = Math.min(FullRanking.CHUNK, n - first);
        long[][] chunkIds = FullRanking.rankedIds(products, queries, first, size);
        for (int q = 0; q < size; q++) {
          int query = first + q;
          long[] ids = chunkIds[q];
          int label = queryLabels[query];
          ap[query] = averagePrecision(ids, label, relevantCount[label], curve);
          int[] best = new int[Math.min(TOP, galleryCount)];
          int hits = 0;
          for (int r = 0; r < best.length; r++) {
            best[r] = (int) ids[r];
            if (galleryLabels[best[r]] == label) {
              hits++;
            }
          }
          p10[query] = (double) hits / TOP;
          top[query] = best;
        }
      }
    }
    double[] perCategory = new double[categories];
    int[] queriesPerCategory = new int[categories];
    for (int q = 0; q < n; q++) {
      perCategory[queryLabels[q]] += ap[q];
      queriesPerCategory[queryLabels[q]]++;
    }
    for (int c = 0; c < categories; c++) {
      perCategory[c] = queriesPerCategory[c] == 0 ? Double.NaN : perCategory[c] / queriesPerCategory[c];
    }
    for (int i = 0; i < curve.length; i++) {
      curve[i] /= n;
    }
    return new RankingQuality(mean(ap), mean(p10), perCategory, curve, top, ap);
  }

  /**
   * AP over the full ranking, {@code (1/R) * sum of precision@k at every relevant rank k}; adds the
   * query's interpolated precision at each recall level to {@code curve}.
   */
  private double averagePrecision(long[] ranking, int label, int relevant, double[] curve) {
    if (relevant == 0) {
      return 0;
    }
    double[] precisionAtHit = new double[relevant];
    int hits = 0;
    for (int rank = 0; rank < ranking.length && hits < relevant; rank++) {
      if (ranking[rank] >= 0 && galleryLabels[(int) ranking[rank]] == label) {
        precisionAtHit[hits] = (double) (hits + 1) / (rank + 1);
        hits++;
      }
    }
    double sum = 0;
    for (int i = 0; i < hits; i++) {
      sum += precisionAtHit[i];
    }
    // Interpolated precision: the best precision at this recall or any higher one.
    for (int i = hits - 2; i >= 0; i--) {
      precisionAtHit[i] = Math.max(precisionAtHit[i], precisionAtHit[i + 1]);
    }
    for (int level = 0; level <= RankingQuality.RECALL_STEPS; level++) {
      double recall = (double) level / RankingQuality.RECALL_STEPS;
      int hitIndex = Math.max(0, (int) Math.ceil(recall * relevant - 1e-9) - 1);
      curve[level] += hitIndex < hits ? precisionAtHit[hitIndex] : 0;
    }
    return sum / relevant;
  }

  /**
   * Exact-item recall@1: the share of altered gallery images whose own gallery entry
   * ({@code ownPosition}) ranks first.
   */
  public double exactItemRecallAt1(Features altered, int[] ownPosition) {
    checkDim(altered);
    SearchResult result = exact.search(altered.rows(), 1);
    int found = 0;
    for (int q = 0; q < altered.count(); q++) {
      if (result.id(q, 0) == ownPosition[q]) {
        found++;
      }
    }
    return altered.count() == 0 ? Double.NaN : (double) found / altered.count();
  }

  /** Queries per second of exact top-10 search, all queries in one batched call (best of {@code rounds}). */
  public double exactQueriesPerSecond(Features queries, int rounds) {
    checkDim(queries);
    return bestQps(exact, queries, rounds);
  }

  /**
   * Builds {@code factory} (e.g. an IVF index) over the same gallery, and reports its recall@10
   * against the exact top 10 and its throughput.
   */
  public ApproximateSearch approximate(String factory, String parameters, Features queries, int rounds) {
    checkDim(queries);
    try (FaissIndex approx = FaissIndex.create(gallery.dim(), factory, Metric.INNER_PRODUCT)) {
      approx.train(gallery.rows());
      approx.add(gallery.rows());
      if (!parameters.isEmpty()) {
        approx.setParameters(parameters);
      }
      SearchResult truth = exact.search(queries.rows(), TOP);
      SearchResult found = approx.search(queries.rows(), TOP);
      long overlap = 0;
      for (int q = 0; q < queries.count(); q++) {
        Set<Long> expected = new HashSet<>();
        for (long id : truth.ids(q)) {
          expected.add(id);
        }
        for (long id : found.ids(q)) {
          if (expected.contains(id)) {
            overlap++;
          }
        }
      }
      double recall = (double) overlap / ((long) queries.count() * TOP);
      return new ApproximateSearch(factory + (parameters.isEmpty() ? "" : " (" + parameters + ")"), recall, bestQps(approx, queries, rounds));
    }
  }

  private static double bestQps(FaissIndex index, Features queries, int rounds) {
    double best = 0;
    for (int round = 0; round < Math.max(1, rounds); round++) {
      long start = System.nanoTime();
      index.search(queries.rows(), TOP);
      double seconds = (System.nanoTime() - start) / 1e9;
      best = Math.max(best, queries.count() / Math.max(seconds, 1e-9));
    }
    return best;
  }

  private void checkDim(Features queries) {
    if (queries.dim() != gallery.dim()) {
      throw new IllegalArgumentException("queries have " + queries.dim() + " dimensions, gallery " + gallery.dim());
    }
  }

  private static double mean(double[] values) {
    double sum = 0;
    for (double v : values) {
      sum += v;
    }
    return values.length == 0 ? Double.NaN : sum / values.length;
  }

  @Override
  public void close() {
    exact.close();
  }
}
