package io.visualsearch.indexformat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IndexFormatTest {

  @Test
  void skuIdsAreStableNonNegativeAndTenantScoped() {
    long a = SkuIds.id("acme", "sku-1");
    assertEquals(a, SkuIds.id("acme", "sku-1"));
    assertTrue(a >= 0);
    assertNotEquals(a, SkuIds.id("other", "sku-1"));
    assertNotEquals(a, SkuIds.id("acme", "sku-2"));
  }

  @Test
  void layoutRefusesPathTricksInTenantsVersionsAndFileNames() {
    assertEquals("indexes/acme/20261122T080102Z-1/shard-000.faiss",
        IndexLayout.file("acme", "20261122T080102Z-1", IndexLayout.shardFileName(0)));
    assertThrows(IllegalArgumentException.class, () -> IndexLayout.tenantPrefix("../acme"));
    assertThrows(IllegalArgumentException.class, () -> IndexLayout.tenantPrefix("Acme"));
    assertThrows(IllegalArgumentException.class, () -> IndexLayout.manifest("acme", "latest"));
    assertThrows(IllegalArgumentException.class, () -> IndexLayout.file("acme", "20261122T080102Z-1", "../CURRENT"));
    assertEquals("20261122T080102Z-1", IndexLayout.versionOf("acme", "indexes/acme/20261122T080102Z-1/skus.tsv"));
    assertNull(IndexLayout.versionOf("acme", "indexes/acme/CURRENT"));
  }

  @Test
  void manifestRoundTripsAndBadOnesAreRefused() throws Exception {
    IndexJson json = new IndexJson();
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, "acme", "20261122T080102Z-1", 1L, "default", 2L,
        "serving_default", 768, "INNER_PRODUCT", "Flat", 3,
        List.of(new IndexManifest.ShardFile("shard-000.faiss", 3, 100, "ab")),
        new IndexManifest.IndexFile("skus.tsv", 10, "cd"), Map.of(0, 5L, 1, 7L));
    assertEquals(m, json.manifest(json.write(m)));
    assertThrows(CorruptIndexException.class, () -> json.manifest("{not json".getBytes(StandardCharsets.UTF_8)));
    assertThrows(CorruptIndexException.class, () -> json.manifest("{\"format\":99}".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void graphIndexesAreHnswShardsNotInvertedFilesWithAGraphQuantiser() throws Exception {
    for (String graph : new String[] {"IDMap,HNSW32", "IDMap2,HNSW16", "HNSW32", "HNSW32_SQ8",
        "IDMap,PCA128,HNSW16,RFlat", "PCAR64,HNSW32"}) {
      assertTrue(manifestOf(graph).graphIndex(), graph);
    }
    for (String other : new String[] {"IVF4096_HNSW32,Flat", "IDMap,Flat", "PCAR165,IVF1024,PQ55np",
        "PCA128,IVF4096_HNSW32,Flat"}) {
      assertFalse(manifestOf(other).graphIndex(), other);
    }
    assertFalse(manifestOf(null).graphIndex());
    IndexJson json = new IndexJson();
    String written = new String(json.write(manifestOf("IDMap,HNSW32")), StandardCharsets.UTF_8);
    assertFalse(written.contains("graph"), "derived, not written: " + written);
  }

  private static IndexManifest manifestOf(String factory) {
    return new IndexManifest(IndexManifest.FORMAT, "acme", "20261122T080102Z-1", 1L, "default", 2L,
        "serving_default", 8, "INNER_PRODUCT", factory, 3,
        List.of(new IndexManifest.ShardFile("shard-000.faiss", 3, 100, "ab")),
        new IndexManifest.IndexFile("skus.tsv", 10, "cd"), Map.of(0, 5L), "efSearch=64");
  }

  @Test
  void searchParametersRoundTripAndManifestsWithoutThemStillRead() throws Exception {
    IndexJson json = new IndexJson();
    IndexManifest withParams = new IndexManifest(IndexManifest.FORMAT, "acme", "20261122T080102Z-1", 1L, "default",
        2L, "serving_default", 8, "INNER_PRODUCT", "IVF64,Flat", 3,
        List.of(new IndexManifest.ShardFile("shard-000.faiss", 3, 100, "ab")),
        new IndexManifest.IndexFile("skus.tsv", 10, "cd"), Map.of(0, 5L), "nprobe=8");
    assertEquals("nprobe=8", json.manifest(json.write(withParams)).searchParameters());
    String older = "{\"format\":1,\"tenant\":\"acme\",\"version\":\"20261122T080102Z-1\",\"dimension\":8,"
        + "\"shards\":[{\"file\":\"shard-000.faiss\",\"vectors\":1,\"bytes\":2,\"sha256\":\"ab\"}]}";
    assertNull(json.manifest(older.getBytes(StandardCharsets.UTF_8)).searchParameters());
  }

  @Test
  void checksumVerificationCatchesTruncationAndTampering() throws Exception {
    byte[] data = "faiss bytes".getBytes(StandardCharsets.UTF_8);
    String sum = Sha256.hex(data);
    Sha256.verify("f", data, data.length, sum);
    assertThrows(CorruptIndexException.class, () -> Sha256.verify("f", new byte[3], data.length, sum));
    byte[] tampered = data.clone();
    tampered[0] ^= 1;
    assertThrows(CorruptIndexException.class, () -> Sha256.verify("f", tampered, data.length, sum));
  }
}
