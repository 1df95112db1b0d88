package io.visualsearch.benchmarks.ann;

import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.indexbuilder.IndexRecipe;
import io.visualsearch.indexformat.ShardVectors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * A FAISS index built from an index_factory string, trained on a prefix of the vectors, with the
 * metric the index-builder would give it (L2 for product quantisation and PCA projections, else inner product) and
 * optional build parameters set before the vectors go in (e.g. HNSW's efConstruction).
 *
 * <p>A rescored candidate is searched as search-api searches a quantised shard: k + {@value
 * ShardVectors#RESCORE_EXTRA_CANDIDATES} candidates from the codes, rescored on the exact vectors
 * read from a {@link ShardVectors} file on local disk. Each of its settings is swept twice, the
 * second time ({@value #CODES_ONLY}) ranking by the codes alone.
 */
final class FaissCandidate implements AnnCandidate {

  static final String CODES_ONLY = " codes-only";

  private final String factory;
  private final int dimension;
  private final int trainVectors;
  private final List<String> settings;
  private final String buildParameters;
  private final boolean rescored;
  private FaissIndex index;
  private long fixedBytes;
  private ShardVectors exact;
  private long exactBytes;
  private boolean codesOnly;

  FaissCandidate(String factory, String buildParameters, int dimension, int trainVectors, List<String> settings,
      boolean rescored) {
    this.factory = factory;
    this.buildParameters = buildParameters;
    this.dimension = dimension;
    this.trainVectors = trainVectors;
    this.settings = rescored ? settings.stream().flatMap(s -> Stream.of(s, s + CODES_ONLY)).toList() : settings;
    this.rescored = rescored;
  }

  @Override
  public String name() {
    return "faiss " + factory + (rescored ? " rescored" : "")
        + (buildParameters.isEmpty() ? "" : " (" + buildParameters + ")");
  }

  @Override
  public String engine() {
    return "faiss";
  }

  @Override
  public void build(float[] vectors, int n) throws Exception {
    index = FaissIndex.create(dimension, factory, IndexRecipe.metricFor(factory));
    if (!buildParameters.isEmpty()) {
      index.setParameters(buildParameters);
    }
    if (!index.isTrained()) {
      int t = Math.min(n, trainVectors);
      index.train(Arrays.copyOf(vectors, t * dimension));
    }
    fixedBytes = fileSize();
    float[] rows = vectors.length == (long) n * dimension ? vectors : Arrays.copyOf(vectors, n * dimension);
    if (factory.startsWith("IDMap")) {
      // As the index-builder adds them: with 64-bit ids (here the positions), whose map is counted.
      index.addWithIds(rows, LongStream.range(0, n).toArray());
    } else {
      index.add(rows);
    }
    if (rescored) {
      // On disk as search-api keeps it: opened, then unlinked; read with positional reads.
      Path file = Files.createTempFile("ann-bench-", ".vectors");
      try {
        ShardVectors.write(file, LongStream.range(0, n).toArray(), rows, dimension);
        exactBytes = Files.size(file);
        exact = ShardVectors.open(file, dimension, n);
      } finally {
        Files.deleteIfExists(file);
      }
    }
  }

  @Override
  public long diskBytes() {
    return exactBytes;
  }

  @Override
  public long bytes() throws Exception {
    return fileSize();
  }

  /** Written to a temporary file rather than serialized to the heap: large indexes would double memory. */
  private long fileSize() throws Exception {
    Path tmp = Files.createTempFile("ann-bench-", ".faiss");
    try {
      index.write(tmp);
      return Files.size(tmp);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  @Override
  public long fixedBytes() {
    return fixedBytes;
  }

  @Override
  public List<String> settings() {
    return settings;
  }

  @Override
  public void apply(String setting) {
    codesOnly = setting.endsWith(CODES_ONLY);
    String parameters = codesOnly ? setting.substring(0, setting.length() - CODES_ONLY.length()) : setting;
    if (!parameters.isEmpty()) {
      index.setParameters(parameters);
    }
  }

  @Override
  public long[] search(float[] query, int k) throws IOException {
    if (!rescored || codesOnly) {
      return index.search(query, k).ids(0);
    }
    long[] candidates = index.search(query, k + ShardVectors.RESCORE_EXTRA_CANDIDATES).ids(0);
    float[] row = new float[dimension];
    List<Scored> scored = new ArrayList<>(candidates.length);
    for (long id : candidates) {
      if (id >= 0 && exact.read(id, row)) {
        double dot = 0;
        for (int j = 0; j < dimension; j++) {
          dot += (double) query[j] * row[j];
        }
        scored.add(new Scored(id, dot));
      }
    }
    scored.sort(Comparator.comparingDouble(Scored::score).reversed());
    return scored.stream().limit(k).mapToLong(Scored::id).toArray();
  }

  private record Scored(long id, double score) {}

  @Override
  public void close() {
    if (index != null) {
      index.close();
    }
    if (exact != null) {
      try {
        exact.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
