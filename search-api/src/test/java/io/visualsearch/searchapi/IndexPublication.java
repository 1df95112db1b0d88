package io.visualsearch.searchapi;

import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.Sha256;
import io.visualsearch.indexformat.ShardVectors;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.proto.events.IndexPublished;
import io.visualsearch.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes an index version exactly as the index-builder contract says (index-format): shards,
 * skus.tsv, manifest with sha256, CURRENT pointer, then an index.published record. Lets the tests
 * of search-api run without the index-builder.
 */
public final class IndexPublication {

  private final ObjectStore store;
  private final Producer<byte[], byte[]> producer;
  private final IndexJson json = new IndexJson();

  public IndexPublication(ObjectStore store, Producer<byte[], byte[]> producer) {
    this.store = store;
    this.producer = producer;
  }

  public IndexManifest publish(String tenant, String version, long modelVersion, Map<String, float[]> vectors,
      int shards, Map<Integer, Long> embeddingsOffsets) throws Exception {
    return publish(tenant, version, modelVersion, vectors, shards, embeddingsOffsets, bytes -> bytes);
  }

  /** {@code storedShard} alters the bytes uploaded after the manifest's sha256 was taken (corruption tests). */
  public IndexManifest publish(String tenant, String version, long modelVersion, Map<String, float[]> vectors,
      int shards, Map<Integer, Long> embeddingsOffsets, java.util.function.UnaryOperator<byte[]> storedShard)
      throws Exception {
    return publish(tenant, version, modelVersion, vectors, shards, embeddingsOffsets, storedShard, "IDMap,Flat");
  }

  /**
   * Shards of {@code factory}: a product-quantised one is trained on all the vectors, compares by
   * L2 and ships each shard's exact vectors beside it, as the index-builder publishes IVF-PQ.
   */
  public IndexManifest publish(String tenant, String version, long modelVersion, Map<String, float[]> vectors,
      int shards, Map<Integer, Long> embeddingsOffsets, java.util.function.UnaryOperator<byte[]> storedShard,
      String factory) throws Exception {
    boolean quantised = factory.contains("PQ");
    int d = vectors.values().iterator().next().length;
    List<List<String>> parts = new ArrayList<>();
    for (int s = 0; s < shards; s++) {
      parts.add(new ArrayList<>());
    }
    int i = 0;
    for (String sku : vectors.keySet()) {
      parts.get(i++ % shards).add(sku);
    }
    float[] all = new float[vectors.size() * d];
    int row = 0;
    for (float[] v : vectors.values()) {
      System.arraycopy(normalised(v), 0, all, row++ * d, d);
    }
    StringBuilder tsv = new StringBuilder();
    List<IndexManifest.ShardFile> files = new ArrayList<>();
    for (int s = 0; s < shards; s++) {
      List<String> skus = new ArrayList<>(parts.get(s));
      // Ids ascending, as the index-builder adds them and as a vectors file must list them.
      skus.sort(java.util.Comparator.comparingLong(sku -> SkuIds.id(tenant, sku)));
      float[] flat = new float[skus.size() * d];
      long[] ids = new long[skus.size()];
      for (int j = 0; j < skus.size(); j++) {
        float[] v = normalised(vectors.get(skus.get(j)));
        System.arraycopy(v, 0, flat, j * d, d);
        ids[j] = SkuIds.id(tenant, skus.get(j));
        tsv.append(ids[j]).append('\t').append(skus.get(j)).append('\n');
      }
      byte[] bytes;
      try (FaissIndex index = FaissIndex.create(d, factory, quantised ? Metric.L2 : Metric.INNER_PRODUCT)) {
        if (!index.isTrained()) {
          index.train(all);
        }
        if (ids.length > 0) {
          index.addWithIds(flat, ids);
        }
        bytes = index.serialize();
      }
      String name = IndexLayout.shardFileName(s);
      store.put(IndexLayout.file(tenant, version, name), storedShard.apply(bytes.clone()), "application/octet-stream");
      IndexManifest.IndexFile exact = null;
      if (quantised) {
        Path file = Files.createTempFile("it-shard-", ".vectors");
        try {
          ShardVectors.write(file, ids, flat, d);
          String exactName = IndexLayout.shardVectorsFileName(s);
          store.put(IndexLayout.file(tenant, version, exactName), file, "application/octet-stream");
          exact = new IndexManifest.IndexFile(exactName, Files.size(file), Sha256.hex(file));
        } finally {
          Files.delete(file);
        }
      }
      files.add(new IndexManifest.ShardFile(name, skus.size(), bytes.length, Sha256.hex(bytes), exact));
    }
    byte[] tsvBytes = tsv.toString().getBytes(StandardCharsets.UTF_8);
    store.put(IndexLayout.file(tenant, version, "skus.tsv"), tsvBytes, "text/tab-separated-values");
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, tenant, version, System.currentTimeMillis(), "default",
        modelVersion, "serving_default", d, "cosine", factory, vectors.size(), files,
        new IndexManifest.IndexFile("skus.tsv", tsvBytes.length, Sha256.hex(tsvBytes)), embeddingsOffsets);
    store.put(IndexLayout.manifest(tenant, version), json.write(m), "application/json");
    store.put(IndexLayout.currentPointer(tenant), json.write(new CurrentPointer(version,
        IndexLayout.manifest(tenant, version), modelVersion, System.currentTimeMillis())), "application/json");
    producer.send(new ProducerRecord<>(Topics.INDEX_PUBLISHED.name(), tenant.getBytes(StandardCharsets.UTF_8),
        IndexPublished.newBuilder().setTenant(tenant).setIndexVersion(version)
            .setManifestKey(IndexLayout.manifest(tenant, version)).setModelName("default").setModelVersion(modelVersion)
            .setVectorCount(vectors.size()).setPublishedAtMs(System.currentTimeMillis())
            .putAllEmbeddingsOffsets(embeddingsOffsets).build().toByteArray())).get();
    return m;
  }

  static float[] normalised(float[] v) {
    double s = 0;
    for (float x : v) {
      s += x * x;
    }
    float[] out = v.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] /= (float) Math.sqrt(Math.max(s, 1e-12));
    }
    return out;
  }
}
