package io.visualsearch.searchapi.index;

import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.Sha256;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.searchapi.MemoryStore;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Small published versions in a {@link MemoryStore}, as the index-builder lays them out. */
final class TinyVersions {

  private TinyVersions() {}

  /**
   * Publishes {@code version} of {@code tenant} into {@code memory}, CURRENT naming it: one
   * IDMap,Flat shard of {@code count} 2-d vectors, skus {@code sku-0..}.
   */
  static IndexManifest publish(MemoryStore memory, String tenant, String version, int count) throws Exception {
    IndexJson json = new IndexJson();
    List<String> skus = java.util.stream.IntStream.range(0, count).mapToObj(i -> "sku-" + i).toList();
    long[] ids = skus.stream().mapToLong(s -> SkuIds.id(tenant, s)).toArray();
    float[] vectors = new float[2 * count];
    for (int i = 0; i < count; i++) {
      vectors[2 * i + i % 2] = 1;
    }
    byte[] shard;
    try (FaissIndex index = FaissIndex.create(2, "IDMap,Flat", Metric.INNER_PRODUCT)) {
      index.addWithIds(vectors, ids);
      shard = index.serialize();
    }
    String name = IndexLayout.shardFileName(0);
    memory.objects.put(IndexLayout.file(tenant, version, name), shard);
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < count; i++) {
      lines.append(ids[i]).append('\t').append(skus.get(i)).append('\n');
    }
    byte[] tsv = lines.toString().getBytes(StandardCharsets.UTF_8);
    memory.objects.put(IndexLayout.file(tenant, version, "skus.tsv"), tsv);
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, tenant, version, System.currentTimeMillis(), "default",
        1, "serving_default", 2, "cosine", "IDMap,Flat", count,
        List.of(new IndexManifest.ShardFile(name, count, shard.length, Sha256.hex(shard), null)),
        new IndexManifest.IndexFile("skus.tsv", tsv.length, Sha256.hex(tsv)), java.util.Map.of(0, 10L));
    memory.objects.put(IndexLayout.manifest(tenant, version), json.write(m));
    memory.objects.put(IndexLayout.currentPointer(tenant), json.write(new CurrentPointer(version,
        IndexLayout.manifest(tenant, version), 1, System.currentTimeMillis())));
    return m;
  }
}
