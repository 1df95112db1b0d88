package io.visualsearch.indexbuilder;

import io.visualsearch.faiss.Metric;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How one tenant's index is built: the FAISS factory string, how many training vectors it gets,
 * and the search parameters recommended to readers.
 *
 * <p>By catalog size n: below the exact threshold every query compares against every vector
 * ({@code IDMap,Flat}: exact, no training, and at that size fast enough). Above it, an HNSW graph
 * searched with the configured efSearch; for the shipped 768-d model {@code
 * IDMap,PCA128,HNSW16,RFlat}: the graph links and walks 128-d PCA projections (trained on a
 * sample) and its best 2·k are rescored on the full vectors, which answered about twice as many
 * queries as a graph over the full vectors at the same recall (RATIONALE.md); the builder
 * rebuilds from its own state, so HNSW's lack of in-place removal costs nothing. Above the PQ
 * threshold, an inverted file with about 4·√n lists, rounded down to a power of two so the list
 * count (and with it the factory string) stays the same while a catalog grows up to fourfold and
 * a trained quantiser can be reused; never fewer than 39 training points per list (below that
 * k-means centroids are noise, FAISS warns about it); its vectors are product-quantised so a
 * very large catalog fits in memory: {@value #PQ_CODE_BYTES}-byte codes (with FAISS's 8-byte id
 * and its lists' lengths, at most 64 bytes a vector), after a PCA
 * rotation down to {@value #PQ_DIMENSIONS_PER_CODE_BYTE} dimensions per code byte when the
 * model's dimension is larger, and compared by L2 distance, which on unit vectors ranks exactly
 * as cosine does but quantises far better than inner product (see RATIONALE.md). Training uses
 * up to 256 points per list, which is where FAISS's k-means stops sampling anyway.
 *
 * @param lists IVF list count, 0 for indexes without lists
 * @param trainingSize vectors to train on (0: the index needs no training)
 * @param searchParameters FAISS ParameterSpace string for readers, or null
 * @param metric how FAISS compares the (always L2-normalised) vectors
 */
public record IndexRecipe(String factory, int lists, int trainingSize, String searchParameters, Metric metric) {

  static final int MIN_POINTS_PER_LIST = 39;
  static final int MAX_POINTS_PER_LIST = 256;
  static final int MAX_LISTS = 65_536;
  /** PQ codebooks have 256 centroids each and want the same 39 points per centroid. */
  static final int MIN_PQ_TRAINING = 256 * MIN_POINTS_PER_LIST;
  /**
   * 64 bytes a vector in memory, less the 8-byte id every inverted list stores beside the code
   * and a byte for the length each list records (8 bytes a list, up to 65,536 lists).
   */
  public static final int PQ_CODE_BYTES = 55;
  /** The best of 2, 3 and 4 dimensions a byte at 56-byte codes on the shipped 768-d model. */
  static final int PQ_DIMENSIONS_PER_CODE_BYTE = 3;

  /** The middle tier's graph for small models, wrapped so it takes the builder's 64-bit ids. */
  static final String GRAPH_FACTORY = "IDMap,HNSW32";
  /**
   * Dimensions the middle tier's graph walks in for models of at least twice as many: a PCA
   * projection, the graph over it, and the graph's best {@value #GRAPH_REFINE_FACTOR}·k rescored
   * on the full vectors (RATIONALE.md).
   */
  static final int GRAPH_DIMENSIONS = 128;
  static final int GRAPH_REFINE_FACTOR = 2;
  /** Enough rows to estimate the leading {@value #GRAPH_DIMENSIONS} principal axes well. */
  static final int GRAPH_PCA_TRAINING = 32_768;

  /** The most floats one training sample may hold: the largest Java array. */
  static final int MAX_TRAINING_FLOATS = Integer.MAX_VALUE - 8;

  /**
   * {@code wanted} rows, or as many as fit one array: from ~16.8M vectors of 768 dimensions the
   * 256 points a list of 16,384 lists ask for would not (still 170 a list, above FAISS's 39).
   */
  static int trainingRows(int wanted, int dimension) {
    return Math.min(wanted, MAX_TRAINING_FLOATS / dimension);
  }

  /** Chooses the recipe from the catalog size, or expands an operator's factory override. */
  public static IndexRecipe choose(int vectors, int dimension, int exactThreshold, int pqThreshold, String override,
      int nprobe, int efSearch) {
    int lists = lists(vectors);
    boolean overridden = override != null && !override.isBlank();
    if (overridden && vectors >= trainingPointsNeeded(override, lists)) {
      boolean ivf = override.contains("IVF");
      String factory = override.replace("{nlist}", Integer.toString(lists));
      int training = trainingRows(Math.min(vectors,
          Math.max(MAX_POINTS_PER_LIST * lists, factory.contains("PQ") ? MIN_PQ_TRAINING : 0)), dimension);
      return new IndexRecipe(factory, ivf ? lists : 0, training,
          ivf ? nprobe(nprobe, lists) : factory.contains("HNSW") ? graphParameters(factory, efSearch) : null,
          metricFor(factory));
    }
    if (vectors < exactThreshold || overridden) {
      // Also an override with too few vectors to train it: FAISS refuses to train IVF lists or
      // PQ codebooks on fewer points than centroids, and a tenant whose products were all
      // deleted must still get its empty index published.
      return new IndexRecipe("IDMap,Flat", 0, 0, null, Metric.INNER_PRODUCT);
    }
    if (vectors >= Math.max(pqThreshold, MIN_PQ_TRAINING)) {
      int training = trainingRows(Math.min(vectors, Math.max(MAX_POINTS_PER_LIST * lists, MIN_PQ_TRAINING)), dimension);
      String factory = pqFactory(dimension, lists);
      return new IndexRecipe(factory, lists, training, nprobe(nprobe, lists), metricFor(factory));
    }
    String graph = graphFactory(dimension);
    return new IndexRecipe(graph, 0, graph.contains("PCA") ? Math.min(vectors, GRAPH_PCA_TRAINING) : 0,
        graphParameters(graph, efSearch), metricFor(graph));
  }

  /** A product quantiser in a factory string, with its bits per code when given. */
  private static final Pattern PQ_CODEBOOK = Pattern.compile("PQ\\d+(?:x(\\d+))?");

  /**
   * The fewest vectors a factory can be trained on: one per IVF list, one per PQ codebook centroid
   * ({@code PQ<m>x<bits>}, 8 bits unless stated), one for any other training.
   */
  static int trainingPointsNeeded(String factory, int lists) {
    boolean ivf = factory.contains("IVF");
    int centroids = 0;
    Matcher pq = PQ_CODEBOOK.matcher(factory);
    while (pq.find()) {
      centroids = Math.max(centroids, 1 << (pq.group(1) == null ? 8 : Math.min(24, Integer.parseInt(pq.group(1)))));
    }
    boolean trained = ivf || centroids > 0 || factory.contains("PCA") || factory.contains("SQ");
    return Math.max(trained ? 1 : 0, Math.max(ivf ? lists : 0, centroids));
  }

  /**
   * The middle tier's factory for a model dimension: the graph walks a PCA projection to
   * {@value #GRAPH_DIMENSIONS} dimensions and its candidates are rescored exactly ({@code RFlat})
   * when the model has at least twice as many; a smaller model's vectors go into the graph whole.
   */
  public static String graphFactory(int dimension) {
    return dimension >= 2 * GRAPH_DIMENSIONS ? "IDMap,PCA" + GRAPH_DIMENSIONS + ",HNSW16,RFlat" : GRAPH_FACTORY;
  }

  /**
   * The IVF-PQ factory for a model dimension: {@value #PQ_CODE_BYTES} one-byte sub-quantisers over
   * a PCA rotation to {@value #PQ_DIMENSIONS_PER_CODE_BYTE} dimensions each, or, when the model's
   * dimension is already that small, the largest divisor of it that fits the code.
   */
  public static String pqFactory(int dimension, int lists) {
    int rotated = PQ_CODE_BYTES * PQ_DIMENSIONS_PER_CODE_BYTE;
    // "np": no polysemous training, minutes of work for a Hamming filter no search here uses.
    if (dimension > rotated) {
      return "PCAR" + rotated + ",IVF" + lists + ",PQ" + PQ_CODE_BYTES + "np";
    }
    return "IVF" + lists + ",PQ" + pqSubquantizers(dimension) + "np";
  }

  /**
   * Product-quantised and PCA-projected indexes compare by L2: on unit vectors it ranks as inner
   * product does, FAISS's residual PQ under inner product lost two thirds of the recall in our
   * measurement, and a PCA centres the vectors, which changes inner products but not distances.
   */
  public static Metric metricFor(String factory) {
    return factory.contains("PQ") || factory.contains("PCA") ? Metric.L2 : Metric.INNER_PRODUCT;
  }

  static int lists(int vectors) {
    int bySize = (int) Math.round(4 * Math.sqrt(vectors));
    int byTraining = vectors / MIN_POINTS_PER_LIST;
    int lists = Math.max(1, Math.min(MAX_LISTS, Math.min(bySize, byTraining)));
    return Integer.highestOneBit(lists);
  }

  /** The largest divisor of the dimension that fits the code, with at least 2 dimensions each. */
  static int pqSubquantizers(int dimension) {
    for (int m = Math.min(PQ_CODE_BYTES, Math.max(1, dimension / 2)); m > 1; m--) {
      if (dimension % m == 0) {
        return m;
      }
    }
    return 1;
  }

  private static String nprobe(int nprobe, int lists) {
    return "nprobe=" + Math.min(nprobe, lists);
  }

  /** The candidate list, and for a refined graph how many candidates per result it rescores. */
  private static String graphParameters(String factory, int efSearch) {
    return "efSearch=" + efSearch + (refined(factory) ? ",k_factor_rf=" + GRAPH_REFINE_FACTOR : "");
  }

  /**
   * Whether readers should rescore the shards' candidates on exact vectors shipped beside them:
   * the factory's own scores are approximate (product or scalar codes, or a PCA projection) and
   * it keeps no refinement index of its own. Without it, near ties among a query's true nearest
   * come back in the codes' order, not the true one (RATIONALE.md).
   */
  public static boolean rescored(String factory) {
    return !refined(factory) && (factory.contains("PQ") || factory.contains("SQ") || factory.contains("RQ")
        || factory.contains("LSH") || factory.contains("PCA"));
  }

  /** Whether the factory rescores its candidates with a refinement index ({@code k_factor_rf} applies). */
  public static boolean refined(String factory) {
    return factory.endsWith(",RFlat") || factory.contains(",Refine(");
  }
}
