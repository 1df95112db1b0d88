package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class LegacyVariantsTest {

  static final ModelKey LEGACY = new ModelKey("default", 1, "serving_default", "");
  static final ModelKey A = new ModelKey("default", 1, "serving_default", "serving_default.embedding.224px.as-is");
  static final ModelKey B = new ModelKey("default", 1, "serving_default", "serving_default.embedding.299px.as-is");
  static final ModelKey OTHER_SIGNATURE = new ModelKey("default", 1, "mixed7", "mixed7.embedding.224px.as-is");

  /** A snapshot holding {@code counts} products of each model, of {@code dims} dimensions each (default 4). */
  static TenantSnapshot snapshot(Map<ModelKey, Integer> counts, Map<ModelKey, Integer> dims) {
    List<ProductVector> products = new ArrayList<>();
    Map<ModelKey, Integer> dimensions = new HashMap<>();
    Map<ModelKey, Long> produced = new HashMap<>();
    long t = 1;
    for (Map.Entry<ModelKey, Integer> e : counts.entrySet()) {
      int dim = dims.getOrDefault(e.getKey(), 4);
      dimensions.put(e.getKey(), dim);
      produced.put(e.getKey(), t++);
      for (int i = 0; i < e.getValue(); i++) {
        String sku = e.getKey().variant() + "-" + e.getKey().signature() + "-" + i;
        products.add(new ProductVector(sku, i, e.getKey(), new float[dim], 0));
      }
    }
    return new TenantSnapshot("acme", products, Map.copyOf(counts), dimensions, produced, produced, Map.of(),
        Map.of(), List.of());
  }

  static Set<ModelKey> modelsOf(TenantSnapshot s) {
    return s.products().stream().map(ProductVector::model).collect(Collectors.toSet());
  }

  @Test
  void recordsWithoutAVariantJoinTheOnlyVariantOfTheirLane() {
    TenantSnapshot snap = snapshot(Map.of(LEGACY, 7, A, 3), Map.of());
    LegacyVariants v = LegacyVariants.of(snap, LEGACY, 4);
    TenantSnapshot merged = v.apply(snap);
    assertEquals(Map.of(A, 10), merged.productsPerModel());
    assertEquals(Set.of(A), modelsOf(merged));
    assertEquals(Map.of(A, 4), merged.dimensions());
    assertEquals(Map.of(A, 2L), merged.lastProducedMs(), "the newer of the two");
    assertEquals(A, v.resolve(LEGACY), "the index published before variants were written is the same model");
    assertEquals(10, merged.vectorsOf(A).size());
  }

  @Test
  void recordsWithoutAVariantJoinThePublishedVariantWhenAnotherRollsOut() {
    // Published with A; the generator reconfigured to B re-embeds the catalog: the products it has
    // not reached yet, legacy or A, are A's, and B stays a model of its own until it covers the catalog.
    TenantSnapshot snap = snapshot(Map.of(LEGACY, 5, A, 3, B, 2), Map.of());
    LegacyVariants v = LegacyVariants.of(snap, A, 4);
    TenantSnapshot merged = v.apply(snap);
    assertEquals(Map.of(A, 8, B, 2), merged.productsPerModel());
    assertEquals(B, v.resolve(B));
    assertEquals(A, v.resolve(A));
  }

  @Test
  void withSeveralVariantsAndNoneServedLegacyRecordsStayApart() {
    TenantSnapshot snap = snapshot(Map.of(LEGACY, 5, A, 3, B, 2), Map.of());
    TenantSnapshot same = LegacyVariants.of(snap, null, 0).apply(snap);
    assertEquals(Map.of(LEGACY, 5, A, 3, B, 2), same.productsPerModel());
  }

  @Test
  void anotherDimensionOrSignatureIsNeverJoined() {
    TenantSnapshot snap = snapshot(Map.of(LEGACY, 5, A, 3), Map.of(A, 8));
    assertEquals(Map.of(LEGACY, 5, A, 3), LegacyVariants.of(snap, null, 0).apply(snap).productsPerModel());
    TenantSnapshot otherLayer = snapshot(Map.of(LEGACY, 5, OTHER_SIGNATURE, 3), Map.of());
    LegacyVariants v = LegacyVariants.of(otherLayer, LEGACY, 4);
    assertEquals(Map.of(LEGACY, 5, OTHER_SIGNATURE, 3), v.apply(otherLayer).productsPerModel());
    assertEquals(LEGACY, v.resolve(LEGACY));
    assertNull(v.resolve(null));
  }
}
