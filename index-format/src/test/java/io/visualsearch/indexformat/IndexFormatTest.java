package io.visualsearch.indexformat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

  /**
   * What readers and the builder's announcement use without checking must be there: a manifest
   * lacking it was accepted, then failed every build of its tenant and held back every tenant's
   * index.published, re-announced for ever.
   */
  @Test
  void manifestsAndPointersMissingWhatReadersUseAreRefused() throws Exception {
    IndexJson json = new IndexJson();
    ObjectMapper mapper = new ObjectMapper();
    byte[] whole = json.write(manifestOf("IDMap,Flat"));
    assertEquals("acme", json.manifest(whole).tenant());
    for (String field : new String[] {"model_name", "model_version", "embeddings_offsets", "sku_map"}) {
      ObjectNode m = (ObjectNode) mapper.readTree(whole);
      m.remove(field);
      assertThrows(CorruptIndexException.class, () -> json.manifest(mapper.writeValueAsBytes(m)), "without " + field);
    }
    String[][] broken = {{"model_name", "\"\""}, {"model_version", "0"}, {"model_version", "-1"},
        {"embeddings_offsets", "{\"0\": null}"}, {"shards", "[null]"}, {"version", "\"latest\""},
        {"tenant", "\"../acme\""}};
    for (String[] field : broken) {
      ObjectNode m = (ObjectNode) mapper.readTree(whole);
      m.set(field[0], mapper.readTree(field[1]));
      assertThrows(CorruptIndexException.class, () -> json.manifest(mapper.writeValueAsBytes(m)), m.toString());
    }
    assertThrows(CorruptIndexException.class, () -> json.manifest("null".getBytes(StandardCharsets.UTF_8)));

    CurrentPointer p = new CurrentPointer("20261122T080102Z-1", IndexLayout.manifest("acme", "20261122T080102Z-1"), 2,
        5);
    assertEquals(p, json.pointer(json.write(p)));
    assertThrows(CorruptIndexException.class, () -> json.pointer("null".getBytes(StandardCharsets.UTF_8)));
    assertThrows(CorruptIndexException.class,
        () -> json.pointer(json.write(new CurrentPointer(null, p.manifestKey(), 2, 5))));
    assertThrows(CorruptIndexException.class,
        () -> json.pointer(json.write(new CurrentPointer(p.version(), null, 2, 5))));
    assertThrows(CorruptIndexException.class,
        () -> json.pointer(json.write(new CurrentPointer("latest", p.manifestKey(), 2, 5))));
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
        new IndexManifest.IndexFile("skus.tsv", 10, "cd"), Map.of(0, 5L), "efSearch=64", null);
  }

  @Test
  void searchParametersRoundTripAndManifestsWithoutThemStillRead() throws Exception {
    IndexJson json = new IndexJson();
    IndexManifest withParams = new IndexManifest(IndexManifest.FORMAT, "acme", "20261122T080102Z-1", 1L, "default",
        2L, "serving_default", 8, "INNER_PRODUCT", "IVF64,Flat", 3,
        List.of(new IndexManifest.ShardFile("shard-000.faiss", 3, 100, "ab")),
        new IndexManifest.IndexFile("skus.tsv", 10, "cd"), Map.of(0, 5L), "nprobe=8",
        new IndexManifest.IndexFile(ImageKeys.FILE, 20, "ef"));
    assertEquals("nprobe=8", json.manifest(json.write(withParams)).searchParameters());
    assertEquals(withParams.imageMap(), json.manifest(json.write(withParams)).imageMap());
    String older = "{\"format\":1,\"tenant\":\"acme\",\"version\":\"20261122T080102Z-1\",\"dimension\":8,"
        + "\"model_name\":\"default\",\"model_version\":2,\"embeddings_offsets\":{\"0\":5},"
        + "\"sku_map\":{\"file\":\"skus.tsv\",\"bytes\":10,\"sha256\":\"cd\"},"
        + "\"shards\":[{\"file\":\"shard-000.faiss\",\"vectors\":1,\"bytes\":2,\"sha256\":\"ab\"}]}";
    assertNull(json.manifest(older.getBytes(StandardCharsets.UTF_8)).searchParameters());
    assertNull(json.manifest(older.getBytes(StandardCharsets.UTF_8)).imageMap());
    // Written before required_features: nothing listed, nothing refused.
    assertEquals(List.of(), json.manifest(older.getBytes(StandardCharsets.UTF_8)).requiredFeatures());
    String olderWithExact = older.replace("\"sha256\":\"ab\"}", "\"sha256\":\"ab\",\"exact_vectors\":"
        + "{\"file\":\"shard-000.vectors\",\"bytes\":40,\"sha256\":\"ad\"}}").replace("\"dimension\"",
        "\"search_parameters\":\"nprobe=16\",\"dimension\"");
    IndexManifest olderIvfPq = json.manifest(olderWithExact.getBytes(StandardCharsets.UTF_8));
    assertEquals("nprobe=16", olderIvfPq.searchParameters());
    assertEquals("shard-000.vectors", olderIvfPq.shards().get(0).exactVectors().file());
  }

  /**
   * A reader that ignores search_parameters or exact_vectors searches an IVF-PQ version at nprobe 1
   * without rescoring: recall collapses while it serves. The manifest names them for readers to check.
   */
  @Test
  void featuresThatChangeHowAVersionIsSearchedAreListedAndRoundTrip() throws Exception {
    IndexJson json = new IndexJson();
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, "acme", "20261122T080102Z-1", 1L, "default", 2L,
        "serving_default", 8, "cosine", "IVF64,PQ4", 3,
        List.of(new IndexManifest.ShardFile("shard-000.faiss", 2, 100, "ab"),
            new IndexManifest.ShardFile("shard-001.faiss", 1, 100, "ac",
                new IndexManifest.IndexFile(IndexLayout.shardVectorsFileName(1), 40, "ad"))),
        new IndexManifest.IndexFile("skus.tsv", 10, "cd"), Map.of(0, 5L), "nprobe=16", null);
    byte[] written = json.write(m);
    assertEquals(new ObjectMapper().readTree("[\"search_parameters\", \"exact_vectors\"]"),
        new ObjectMapper().readTree(written).get("required_features"), new String(written, StandardCharsets.UTF_8));
    IndexManifest read = json.manifest(written);
    assertEquals(m, read);
    assertEquals(List.of(IndexManifest.FEATURE_SEARCH_PARAMETERS, IndexManifest.FEATURE_EXACT_VECTORS),
        read.requiredFeatures());

    IndexManifest plain = new IndexManifest(IndexManifest.FORMAT, "acme", "20261122T080102Z-1", 1L, "default", 2L,
        "serving_default", 8, "cosine", "IDMap,Flat", 3,
        List.of(new IndexManifest.ShardFile("shard-000.faiss", 3, 100, "ab")),
        new IndexManifest.IndexFile("skus.tsv", 10, "cd"), Map.of(0, 5L), " ", null);
    String plainJson = new String(json.write(plain), StandardCharsets.UTF_8);
    assertFalse(plainJson.contains("required_features"), "a plain manifest stays as it was: " + plainJson);
  }

  /** A reader rolled back past a feature refuses the version (and keeps its previous one) instead of misreading it. */
  @Test
  void aManifestRequiringAFeatureThisReaderLacksIsRefused() throws Exception {
    IndexJson json = new IndexJson();
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode m = (ObjectNode) mapper.readTree(json.write(manifestOf("IVF64,Flat")));
    m.set("required_features", mapper.readTree("[\"search_parameters\", \"residual_codes\"]"));
    CorruptIndexException e = assertThrows(CorruptIndexException.class, () -> json.manifest(mapper.writeValueAsBytes(m)));
    assertEquals("index version 20261122T080102Z-1 of tenant acme requires reader feature 'residual_codes' that this"
        + " reader does not support; upgrade the reader", e.getMessage());
    m.set("required_features", mapper.readTree("[null]"));
    assertThrows(CorruptIndexException.class, () -> json.manifest(mapper.writeValueAsBytes(m)));
    m.set("required_features", mapper.readTree("\"search_parameters\""));
    assertThrows(CorruptIndexException.class, () -> json.manifest(mapper.writeValueAsBytes(m)), "not a list");
    m.set("required_features", mapper.readTree("[\"search_parameters\"]"));
    assertEquals("efSearch=64", json.manifest(mapper.writeValueAsBytes(m)).searchParameters());
  }

  @Test
  void imageKeysRoundTripAndRefuseDisorder() throws Exception {
    String sha = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    long key = ImageKeys.of(sha);
    assertEquals(0x0011223344556677L, key);
    assertEquals(0, ImageKeys.of("not a sha"));
    assertEquals(0, ImageKeys.of(sha.replace('f', 'g')), "every digit must be hex");
    byte[] file = ImageKeys.write(new long[] {3, 9, 12}, new long[] {key, 0, -5});
    ImageKeys keys = ImageKeys.parse(file);
    assertEquals(2, keys.size(), "an unknown image is left out");
    assertEquals(key, keys.keyOf(3));
    assertEquals(0, keys.keyOf(9));
    assertEquals(-5, keys.keyOf(12));
    assertEquals(0, keys.keyOf(4));
    assertThrows(CorruptIndexException.class,
        () -> ImageKeys.parse("9\t0000000000000001\n3\t0000000000000002\n".getBytes(StandardCharsets.UTF_8)));
    assertThrows(CorruptIndexException.class, () -> ImageKeys.parse("3 12\n".getBytes(StandardCharsets.UTF_8)));
    assertThrows(CorruptIndexException.class,
        () -> ImageKeys.parse("3\t00000000000000021\n".getBytes(StandardCharsets.UTF_8)), "a key is 16 digits");
  }

  /** A later builder may add columns; this reader takes the id and the key and leaves the rest. */
  @Test
  void imageKeysIgnoreColumnsAfterTheKey() throws Exception {
    ImageKeys keys = ImageKeys.parse("3\t0000000000000002\tcrop=0,0,10,10\n9\t000000000000000a\t\n"
        .getBytes(StandardCharsets.UTF_8));
    assertEquals(2, keys.size());
    assertEquals(2, keys.keyOf(3));
    assertEquals(10, keys.keyOf(9));
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
