package io.visualsearch.benchmarks.ann;

import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.indexbuilder.IndexRecipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;

/**
 * A FAISS index built from an index_factory string, trained on a prefix of the vectors, with the
 * metric the index-builder would give it (L2 for product quantisation and PCA projections, else inner product) and
 * optional build parameters set before the vectors go in (e.g. HNSW's efConstruction).
 */
final class FaissCandidate implements AnnCandidate {

  private final String factory;
  private final int dimension;
  private final int trainVectors;
  private final List<String> settings;
  private final String buildParameters;
  private FaissIndex index;
  private long fixedBytes;

  FaissCandidate(String factory, String buildParameters, int dimension, int trainVectors, List<String> settings) {
    this.factory = factory;
    this.buildParameters = buildParameters;
    this.dimension = dimension;
    this.trainVectors = trainVectors;
    this.settings = settings;
  }

  @Override
  public String name() {
    return "faiss " + factory + (buildParameters.isEmpty() ? "" : " (" + buildParameters + ")");
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
    if (!setting.isEmpty()) {
      index.setParameters(setting);
    }
  }

  @Override
  public long[] search(float[] query, int k) {
    return index.search(query, k).ids(0);
  }

  @Override
  public void close() {
    if (index != null) {
      index.close();
    }
  }
}
