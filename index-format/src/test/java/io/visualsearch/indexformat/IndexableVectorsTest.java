package io.visualsearch.indexformat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IndexableVectorsTest {

  @Test
  void aFiniteVectorOfSomeLengthIsIndexable() {
    assertNull(IndexableVectors.refusal(new float[] {0.6f, -0.8f}));
    assertNull(IndexableVectors.refusal(new float[] {0, Float.MIN_VALUE}), "tiny, but it has a direction");
  }

  @Test
  void emptyNonFiniteAndZeroVectorsAreRefusedWithTheirReason() {
    assertEquals(IndexableVectors.EMPTY, IndexableVectors.refusal(new float[0]).reason());
    IndexableVectors.Refusal nan = IndexableVectors.refusal(new float[] {1, Float.NaN});
    assertEquals(IndexableVectors.NON_FINITE, nan.reason());
    assertTrue(nan.message().contains("component 1 is NaN"), nan.message());
    assertEquals(IndexableVectors.NON_FINITE,
        IndexableVectors.refusal(new float[] {Float.NEGATIVE_INFINITY}).reason());
    assertEquals(IndexableVectors.ZERO, IndexableVectors.refusal(new float[] {0, 0, 0}).reason());
  }
}
