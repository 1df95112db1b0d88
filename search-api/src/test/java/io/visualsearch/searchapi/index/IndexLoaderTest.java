package io.visualsearch.searchapi.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.faiss.FaissException;
import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.Sha256;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.searchapi.MemoryStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IndexLoaderTest {

  /** Out of native memory is retried; what FAISS says of a file's content refuses the version. */
  @Test
  void onlyRunningOutOfNativeMemoryIsThisInstancesOwnFailure() {
    assertTrue(IndexLoader.outOfNativeMemory(new FaissException("std::bad_alloc")));
    assertFalse(IndexLoader.outOfNativeMemory(new FaissException(
        "Error in faiss::Index* faiss::read_index(IOReader*, int) at impl/index_read.cpp:1106: Index type 0x0 not"
            + " recognized")));
    assertFalse(IndexLoader.outOfNativeMemory(new FaissException(null)));
  }

  /**
   * images.tsv is optional: one this reader cannot parse (a later builder's layout) is left out, and
   * the version still serves; a damaged copy is refused earlier, by its checksum.
   */
  @Test
  void anImagesFileThisReaderCannotParseIsLeftOutNotTheVersion() {
    byte[] later = "3\t0000000000000002\n9 v2:000000000000000a\n".getBytes(StandardCharsets.UTF_8);
    assertEquals(0, IndexLoader.imageKeysOrNone("acme/v", later).size());
    byte[] readable = "3\t0000000000000002\n".getBytes(StandardCharsets.UTF_8);
    assertEquals(2, IndexLoader.imageKeysOrNone("acme/v", readable).keyOf(3));
  }

  /**
   * An Error out of FAISS's native code on a later shard: the reservation is given back, so the
   * shards opened before it must be freed too, or they stay in native memory for the process's
   * life while the budget counts them free.
   */
  @Test
  void aLoadEndedByAnErrorFreesTheShardsOpenedSoFarWithTheirReservation() throws Exception {
    MemoryStore memory = new MemoryStore();
    List<FaissIndex> opened = new ArrayList<>();
    try {
      String tenant = "acme";
      String version = "20240101T000000Z-v1";
      List<IndexManifest.ShardFile> files = new ArrayList<>();
      StringBuilder tsv = new StringBuilder();
      for (int s = 0; s < 2; s++) {
        long id = SkuIds.id(tenant, "sku-" + s);
        byte[] shard;
        try (FaissIndex index = FaissIndex.create(2, "IDMap,Flat", Metric.INNER_PRODUCT)) {
          index.addWithIds(new float[] {1, s}, new long[] {id});
          shard = index.serialize();
        }
        String name = IndexLayout.shardFileName(s);
        memory.objects.put(IndexLayout.file(tenant, version, name), shard);
        files.add(new IndexManifest.ShardFile(name, 1, shard.length, Sha256.hex(shard), null));
        tsv.append(id).append("\tsku-").append(s).append('\n');
      }
      byte[] skus = tsv.toString().getBytes(StandardCharsets.UTF_8);
      memory.objects.put(IndexLayout.file(tenant, version, "skus.tsv"), skus);
      IndexManifest m = new IndexManifest(IndexManifest.FORMAT, tenant, version, 0, "default", 1, "serving_default", 2,
          "cosine", "IDMap,Flat", 2, files, new IndexManifest.IndexFile("skus.tsv", skus.length, Sha256.hex(skus)),
          Map.of(0, 10L));
      memory.objects.put(IndexLayout.manifest(tenant, version), new IndexJson().write(m));

      NativeMemoryBudget budget = new NativeMemoryBudget(Long.MAX_VALUE, "a test's");
      IndexLoader loader = new IndexLoader(memory.store, null, true, budget, new IndexLoader.ShardOpener() {
        @Override
        public FaissIndex fromBytes(byte[] bytes) {
          if (!opened.isEmpty()) {
            throw new LinkageError("the second shard's native read fails");
          }
          FaissIndex index = FaissIndex.deserialize(bytes);
          opened.add(index);
          return index;
        }

        @Override
        public FaissIndex fromFile(Path file) {
          throw new AssertionError("no scratch space: shards are read through the heap");
        }
      });

      assertThrows(LinkageError.class, () -> loader.load(tenant, version));
      assertEquals(1, opened.size());
      assertThrows(IllegalStateException.class, opened.get(0)::ntotal, "the first shard is freed");
      assertEquals(0, budget.reserved(), "and its reservation given back");
    } finally {
      opened.forEach(FaissIndex::close);
      memory.store.close();
    }
  }
}
