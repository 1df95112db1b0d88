package io.visualsearch.faiss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class ExhaustiveSearchBlasTest {

    private static final int D = 96;

    @ParameterizedTest
    @EnumSource(Metric.class)
    void aSingleQueryThroughBlasFindsWhatTheOneByOnePathFinds(Metric metric) {
        float[] database = TestVectors.random(5000, D, 31);
        float[] queries = TestVectors.random(12, D, 32);
        int before = ExhaustiveSearchBlas.threshold();
        try (FaissIndex index = FaissIndex.create(D, "Flat", metric)) {
            index.add(database);
            for (int q = 0; q < 12; q++) {
                float[] query = TestVectors.row(queries, D, q);
                ExhaustiveSearchBlas.setThreshold(20);
                SearchResult oneByOne = index.search(query, 10);
                ExhaustiveSearchBlas.setThreshold(1);
                SearchResult blas = index.search(query, 10);
                assertArrayEquals(oneByOne.ids(0), blas.ids(0), "query " + q);
                for (int rank = 0; rank < 10; rank++) {
                    assertEquals(oneByOne.distance(0, rank), blas.distance(0, rank),
                        1e-4 * Math.max(1, Math.abs(oneByOne.distance(0, rank))), "query " + q + " rank " + rank);
                }
                int[] exact = TestVectors.bruteForce(metric, database, queries, q, D, 10);
                assertEquals(exact[0], blas.id(0, 0), "query " + q + ": the true nearest first");
            }
        } finally {
            ExhaustiveSearchBlas.setThreshold(before);
        }
        assertEquals(before, ExhaustiveSearchBlas.threshold());
    }

    @Test
    void rejectsNonPositiveThresholds() {
        assertThrows(IllegalArgumentException.class, () -> ExhaustiveSearchBlas.setThreshold(0));
    }
}
