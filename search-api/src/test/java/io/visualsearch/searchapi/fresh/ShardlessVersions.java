package io.visualsearch.searchapi.fresh;

import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.searchapi.index.VectorSpace;
import java.util.List;
import java.util.Map;

/** Served versions without shards, for tests of what only reads a version's manifest and space. */
final class ShardlessVersions {

  private ShardlessVersions() {}

  /** A cosine version of model {@code default}. */
  static LoadedIndex of(String tenant, String version, long modelVersion, int dimension,
      Map<Integer, Long> embeddingsOffsets) {
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, tenant, version, 0, "default", modelVersion,
        "serving_default", dimension, "cosine", "IDMap,Flat", 0, List.of(), null, embeddingsOffsets);
    return new LoadedIndex(m, List.of(), Map.of(), VectorSpace.of(Metric.INNER_PRODUCT, "cosine"));
  }
}
