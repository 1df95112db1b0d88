package io.visualsearch.indexbuilder;

/**
 * How one tenant's index is built: the FAISS factory string, how many training vectors it gets,
 * and the search parameters recommended to readers.
 *
 * <p>By catalog size n: below the exact threshold every query compares against every vector
 * ({@code IDMap,Flat}: exact, no training, and at that size fast enough). Above it, an inverted
 * file with about 4·√n lists, rounded down to a power of two so the list count (and with it the
 * factory string) stays the same while a catalog grows up to fourfold and a trained quantiser
 * can be reused; never fewer than 39 training points per list (below that k-means centroids are
 * noise, FAISS warns about it); above the PQ threshold the vectors are also
 * product-quantised so a very large catalog fits in memory. Training uses up to 256 points per
 * list, which is where FAISS's k-means stops sampling anyway.
 *
 * @param lists IVF list count, 0 for indexes without lists
 * @param trainingSize vectors to train on (0: the index needs no training)
 * @param searchParameters FAISS ParameterSpace string for readers, or null
 */
record IndexRecipe(String factory, int lists, int trainingSize, String searchParameters) {

  static final int MIN_POINTS_PER_LIST = 39;
  static final int MAX_POINTS_PER_LIST = 256;
  static final int MAX_LISTS = 65_536;
  /** PQ codebooks have 256 centroids each and want the same 39 points per centroid. */
  static final int MIN_PQ_TRAINING = 256 * MIN_POINTS_PER_LIST;

  /** Chooses the recipe from the catalog size, or expands an operator's factory override. */
  static IndexRecipe choose(int vectors, int dimension, int exactThreshold, int pqThreshold, String override,
      int nprobe) {
    int lists = lists(vectors);
    if (override != null && !override.isBlank()) {
      boolean ivf = override.contains("IVF");
      String factory = override.replace("{nlist}", Integer.toString(lists));
      int training = Math.min(vectors, Math.max(MAX_POINTS_PER_LIST * lists, factory.contains("PQ") ? MIN_PQ_TRAINING : 0));
      return new IndexRecipe(factory, ivf ? lists : 0, training, ivf ? nprobe(nprobe, lists) : null);
    }
    if (vectors < exactThreshold) {
      return new IndexRecipe("IDMap,Flat", 0, 0, null);
    }
    if (vectors >= Math.max(pqThreshold, MIN_PQ_TRAINING)) {
      int m = pqSubquantizers(dimension);
      int training = Math.min(vectors, Math.max(MAX_POINTS_PER_LIST * lists, MIN_PQ_TRAINING));
      return new IndexRecipe("IVF" + lists + ",PQ" + m, lists, training, nprobe(nprobe, lists));
    }
    return new IndexRecipe("IVF" + lists + ",Flat", lists, Math.min(vectors, MAX_POINTS_PER_LIST * lists),
        nprobe(nprobe, lists));
  }

  static int lists(int vectors) {
    int bySize = (int) Math.round(4 * Math.sqrt(vectors));
    int byTraining = vectors / MIN_POINTS_PER_LIST;
    int lists = Math.max(1, Math.min(MAX_LISTS, Math.min(bySize, byTraining)));
    return Integer.highestOneBit(lists);
  }

  /** The largest divisor of the dimension up to 64 sub-quantisers and at least 2 dimensions each. */
  static int pqSubquantizers(int dimension) {
    for (int m = Math.min(64, Math.max(1, dimension / 2)); m > 1; m--) {
      if (dimension % m == 0) {
        return m;
      }
    }
    return 1;
  }

  private static String nprobe(int nprobe, int lists) {
    return "nprobe=" + Math.min(nprobe, lists);
  }
}
