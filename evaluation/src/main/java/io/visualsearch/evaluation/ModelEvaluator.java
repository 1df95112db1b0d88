package io.visualsearch.evaluation;

import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the protocol for one embedder: embeds (or loads from the cache) the gallery, the queries and
 * the altered exact-item photos, indexes the gallery exactly and approximately, and measures.
 */
public final class ModelEvaluator {

  private static final Logger log = LoggerFactory.getLogger(ModelEvaluator.class);
  private static final int QPS_ROUNDS = 3;

  private final EvaluationCatalog catalog;
  private final FeatureCache cache;
  private final ShopperPhotoAlteration alteration;
  private final int categories;

  public ModelEvaluator(EvaluationCatalog catalog, FeatureCache cache, ShopperPhotoAlteration alteration, int categories) {
    this.catalog = catalog;
    this.cache = cache;
    this.alteration = alteration;
    this.categories = categories;
  }

  public ModelEvaluation evaluate(Embedder embedder) throws IOException {
    Features gallery = cache.splitSubset(embedder, "train", catalog.train().count(), catalog.galleryIndices(),
        catalog::galleryImages);
    Features queries = cache.splitSubset(embedder, "test", catalog.test().count(), catalog.queryIndices(),
        catalog::queryImages);
    int[] exactTrain = catalog.exactTrainIndices();
    Features altered = cache.getOrCompute(embedder,
        "train-" + alteration.fingerprint() + "-" + FeatureCache.digest(exactTrain),
        () -> alteration.alterAll(catalog.train().select(exactTrain), exactTrain));

    try (GalleryIndex index = new GalleryIndex(gallery, catalog.galleryLabels(), categories)) {
      long start = System.nanoTime();
      RankingQuality ranking = index.rank(queries, catalog.queryLabels());
      log.info("{}: ranked {} queries over {} gallery images in {} s: mAP={} P@10={}", embedder.name(), queries.count(),
          gallery.count(), String.format("%.1f", (System.nanoTime() - start) / 1e9),
          String.format("%.4f", ranking.meanAveragePrecision()), String.format("%.4f", ranking.precisionAt10()));
      double recall1 = index.exactItemRecallAt1(altered, catalog.exactItems());
      double qps = index.exactQueriesPerSecond(queries, QPS_ROUNDS);
      int lists = ivfLists(gallery.count());
      ApproximateSearch approximate =
          index.approximate("IVF" + lists + ",Flat", "nprobe=" + Math.max(1, lists / 32), queries, QPS_ROUNDS);
      return new ModelEvaluation(embedder.name(), embedder.description(), gallery.dim(), ranking, recall1, qps, approximate);
    }
  }

  /**
   * About 4·√n inverted lists, but at least 39 training points per list (below that FAISS warns that
   * k-means is under-trained); searched with a 1/32 probe, a typical operating point.
   */
  static int ivfLists(int galleryCount) {
    return (int) Math.max(1, Math.min(galleryCount / 39, Math.round(4 * Math.sqrt(galleryCount))));
  }
}
