package io.visualsearch.searchapi.fresh;

import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.CorruptIndexException;
import io.visualsearch.indexformat.ImageKeys;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.searchapi.index.VectorSpace;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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

  /** The same, its vectors of the generator's vector {@code variant}. */
  static LoadedIndex ofVariant(String tenant, String version, long modelVersion, int dimension,
      Map<Integer, Long> embeddingsOffsets, String variant) {
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, tenant, version, 0, "default", modelVersion,
        "serving_default", dimension, "cosine", "IDMap,Flat", 0, List.of(), null, embeddingsOffsets, null, null, variant);
    return new LoadedIndex(m, List.of(), Map.of(), VectorSpace.of(Metric.INNER_PRODUCT, "cosine"));
  }

  /** The same, saying which image each product's indexed vector was computed from (sku → sha256). */
  static LoadedIndex withImages(String tenant, String version, long modelVersion, int dimension,
      Map<Integer, Long> embeddingsOffsets, Map<String, String> imageOf) throws CorruptIndexException {
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, tenant, version, 0, "default", modelVersion,
        "serving_default", dimension, "cosine", "IDMap,Flat", 0, List.of(), null, embeddingsOffsets);
    Map<Long, Long> keys = new TreeMap<>();
    imageOf.forEach((sku, sha) -> keys.put(SkuIds.id(tenant, sku), ImageKeys.of(sha)));
    byte[] file = ImageKeys.write(keys.keySet().stream().mapToLong(Long::longValue).toArray(),
        keys.values().stream().mapToLong(Long::longValue).toArray());
    return new LoadedIndex(m, List.of(), Map.of(), ImageKeys.parse(file), VectorSpace.of(Metric.INNER_PRODUCT, "cosine"));
  }
}
