package io.visualsearch.searchapi.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.visualsearch.faiss.Metric;
import org.junit.jupiter.api.Test;

class VectorSpaceTest {

  private static final float[] QUERY = {3, 4};
  private static final float[] VECTOR = {1, 0};

  @Test
  void aCosineIndexScoresCosineWhicheverMetricItsFilesUse() {
    VectorSpace ip = VectorSpace.of(Metric.INNER_PRODUCT, "cosine");
    VectorSpace l2 = VectorSpace.of(Metric.L2, "cosine");
    float[] q = l2.prepare(QUERY);
    assertArrayEquals(new float[] {0.6f, 0.8f}, q, 1e-6f);
    assertEquals(0.6f, ip.exactScore(ip.prepare(QUERY), VECTOR), 1e-6f);
    assertEquals(0.6f, l2.exactScore(q, VECTOR), 1e-6f, "delta vectors score as cosine");
    // FAISS's squared L2 distance between the two unit vectors: (0.6-1)² + 0.8² = 0.8.
    assertEquals(0.6f, l2.score(0.8f), 1e-6f, "shard hits score as cosine");
    assertEquals(0.6f, ip.score(0.6f), 1e-6f);
  }

  @Test
  void anyOtherMetricIsTakenAsItIs() {
    VectorSpace l2 = VectorSpace.of(Metric.L2, "l2");
    assertSame(QUERY, l2.prepare(QUERY), "not normalised");
    assertEquals(1f / (1f + 20f), l2.exactScore(QUERY, VECTOR), 1e-6f);
    assertEquals(0.5f, l2.score(1f), 1e-6f);
  }
}
