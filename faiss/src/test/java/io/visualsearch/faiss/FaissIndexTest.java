package io.visualsearch.faiss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class FaissIndexTest {
    private static final int D = 32;

    @ParameterizedTest
    @EnumSource(Metric.class)
    void flatSearchMatchesBruteForce(Metric metric) {
        float[] database = TestVectors.random(3000, D, 1);
        float[] queries = TestVectors.random(40, D, 2);
        int k = 10;
        try (FaissIndex index = FaissIndex.create(D, "Flat", metric)) {
            index.add(database);
            assertEquals(3000, index.ntotal());
            assertEquals(metric, index.metric());
            SearchResult result = index.search(queries, k);
            assertEquals(40, result.queries());
            assertEquals(k, result.k());
            for (int q = 0; q < 40; q++) {
                int[] expected = TestVectors.bruteForce(metric, database, queries, q, D, k);
                assertArrayEquals(Arrays.stream(expected).asLongStream().toArray(), result.ids(q), "query " + q);
                for (int rank = 0; rank < k; rank++) {
                    double exact = TestVectors.distance(metric, queries, q, database, expected[rank], D);
                    assertEquals(exact, result.distance(q, rank), 1e-4 * Math.max(1, Math.abs(exact)), "query " + q + " rank " + rank);
                }
            }
        }
    }

    @Test
    void moreNeighboursThanVectorsArePaddedWithMinusOne() {
        try (FaissIndex index = FaissIndex.create(D, "Flat", Metric.L2)) {
            index.add(TestVectors.random(3, D, 3));
            SearchResult result = index.search(TestVectors.random(1, D, 4), 5);
            Set<Long> found = new HashSet<>(Arrays.asList(result.id(0, 0), result.id(0, 1), result.id(0, 2)));
            assertEquals(Set.of(0L, 1L, 2L), found);
            assertEquals(-1, result.id(0, 3));
            assertEquals(-1, result.id(0, 4));
        }
    }

    @Test
    void ivfTrainsAddsAndSearchesLikeFlatWhenProbingEveryList() {
        float[] database = TestVectors.clustered(4000, D, 40, 5);
        float[] queries = TestVectors.clustered(50, D, 40, 6);
        try (FaissIndex ivf = FaissIndex.create(D, "IVF16,Flat", Metric.L2);
             FaissIndex flat = FaissIndex.create(D, "Flat", Metric.L2)) {
            assertFalse(ivf.isTrained());
            FaissException untrained = assertThrows(FaissException.class, () -> ivf.add(database));
            assertTrue(untrained.getMessage().contains("is_trained"), untrained.getMessage());

            ivf.train(database);
            assertTrue(ivf.isTrained());
            ivf.add(database);
            flat.add(database);
            assertEquals(4000, ivf.ntotal());

            ivf.setParameters("nprobe=16");
            assertArrayEquals(flat.search(queries, 5).allIds(), ivf.search(queries, 5).allIds());
        }
    }

    @Test
    void resetDropsVectorsButKeepsTraining() {
        float[] database = TestVectors.clustered(1000, D, 10, 7);
        try (FaissIndex ivf = FaissIndex.create(D, "IVF8,Flat", Metric.L2)) {
            ivf.train(database);
            ivf.add(database);
            ivf.reset();
            assertEquals(0, ivf.ntotal());
            assertTrue(ivf.isTrained());
            ivf.add(database);
            assertEquals(1000, ivf.ntotal());
        }
    }

    @Test
    void addWithIdsReturnsCallerIds() {
        float[] database = TestVectors.random(500, D, 8);
        long[] ids = new long[500];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1_000_000_000_000L + 7L * i;
        }
        try (FaissIndex index = FaissIndex.create(D, "IDMap,Flat", Metric.L2)) {
            index.addWithIds(database, ids);
            for (int row : new int[] {0, 17, 499}) {
                assertEquals(ids[row], index.search(TestVectors.row(database, D, row), 1).id(0, 0));
            }
        }
    }

    @Test
    void addWithIdsOnAnIndexWithoutIdSupportIsUnsupported() {
        try (FaissIndex flat = FaissIndex.create(D, "Flat", Metric.L2)) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> flat.addWithIds(TestVectors.random(2, D, 9), new long[] {5, 6}));
            assertTrue(e.getMessage().contains("add_with_ids not implemented"), e.getMessage());
            assertTrue(e.getCause() instanceof FaissException);
        }
    }

    /** Ids far from positions, as SKU ids are; plain Flat takes none, so its ids are its positions. */
    private static long[] idsFor(String factory, int n) {
        long[] ids = new long[n];
        Arrays.setAll(ids, i -> factory.equals("Flat") ? i : 5_000_000_000L + 3L * i);
        return ids;
    }

    /** An index of {@code factory} trained (when it needs it) on {@code database} and holding it under {@code ids}. */
    private static FaissIndex filled(String factory, Metric metric, float[] database, long[] ids) {
        FaissIndex index = FaissIndex.create(D, factory, metric);
        if (!index.isTrained()) {
            index.train(database);
        }
        if (factory.equals("Flat")) {
            index.add(database);
        } else {
            index.addWithIds(database, ids);
        }
        return index;
    }

    /** Every layout the index-builder writes without a file of exact vectors beside it. */
    @ParameterizedTest
    @ValueSource(strings = {"Flat", "IDMap,Flat", "IDMap,HNSW32", "IDMap,PCA16,HNSW16,RFlat", "IDMap,IVF8,Flat",
        "IVF8,Flat"})
    void storedVectorsGiveBackExactlyWhatWasAddedWithTheirIds(String factory) {
        float[] database = TestVectors.clustered(600, D, 12, 21);
        long[] ids = idsFor(factory, 600);
        try (FaissIndex index = filled(factory, Metric.INNER_PRODUCT, database, ids)) {
            // In pages, as a reader goes through a large shard: 250 rows, then the other 350.
            FaissIndex.StoredVectors first = index.storedVectors(0, 250);
            FaissIndex.StoredVectors rest = index.storedVectors(250, 350);
            FaissIndex.StoredVectors stored = new FaissIndex.StoredVectors(
                    java.util.stream.LongStream.concat(Arrays.stream(first.ids()), Arrays.stream(rest.ids())).toArray(),
                    concat(first.vectors(), rest.vectors()));
            assertThrows(FaissException.class, () -> index.storedVectors(550, 100), "rows past the end");
            // Each row beside its id, in whatever order the index keeps them (an inverted file's lists).
            for (int row = 0; row < 600; row++) {
                int added = Arrays.binarySearch(ids, stored.ids()[row]);
                assertTrue(added >= 0, "an id that was added: " + stored.ids()[row]);
                assertArrayEquals(TestVectors.row(database, D, added),
                        Arrays.copyOfRange(stored.vectors(), row * D, (row + 1) * D), factory + " row " + row);
            }
            assertEquals(600, Arrays.stream(stored.ids()).distinct().count());
        }
    }

    /** The layouts that keep their vectors whole, as a selective filter's exact scoring reads them. */
    @ParameterizedTest
    @ValueSource(strings = {"Flat", "IDMap,Flat", "IDMap,HNSW32", "IDMap,PCA16,HNSW16,RFlat", "IDMap,IVF8,Flat",
        "IVF8,Flat"})
    void exactDistancesAreTheMetricsDistancesOfThoseIdsAndNanForOthers(String factory) {
        float[] database = TestVectors.clustered(600, D, 12, 23);
        float[] query = TestVectors.row(TestVectors.random(1, D, 24), D, 0);
        long[] ids = idsFor(factory, 600);
        for (Metric metric : Metric.values()) {
            try (FaissIndex index = filled(factory, metric, database, ids)) {
                // Rows far apart, one asked twice, and ids the index never held.
                int[] rows = {599, 0, 17, 17, 300};
                long[] asked = new long[rows.length + 2];
                for (int i = 0; i < rows.length; i++) {
                    asked[i] = ids[rows[i]];
                }
                asked[rows.length] = factory.equals("Flat") ? 600 : 5_000_000_001L;
                asked[rows.length + 1] = -1;
                float[] distances = index.exactDistances(query, asked);
                for (int i = 0; i < rows.length; i++) {
                    double expected = TestVectors.distance(metric, query, 0, database, rows[i], D);
                    assertEquals(expected, distances[i], 1e-4 * Math.max(1, Math.abs(expected)),
                            factory + " " + metric + " row " + rows[i]);
                }
                assertTrue(Float.isNaN(distances[rows.length]), "an id not held: " + distances[rows.length]);
                assertTrue(Float.isNaN(distances[rows.length + 1]), "-1: " + distances[rows.length + 1]);
                // The same figure the index's own search gives the nearest vector.
                SearchResult nearest = index.search(query, 1);
                float[] again = index.exactDistances(query, new long[] {nearest.id(0, 0)});
                assertEquals(nearest.distance(0, 0), again[0], 1e-4f * Math.max(1, Math.abs(again[0])), factory + " " + metric);
            }
        }
    }

    @Test
    void storedVectorsAndExactDistancesOfAQuantisedIndexAreUnsupportedNotApproximated() {
        float[] database = TestVectors.clustered(2000, D, 20, 22);
        // np: without the polysemous training the factory gives a PQ by default, a minute here and beside the point.
        try (FaissIndex pq = FaissIndex.create(D, "IDMap,IVF8,PQ8np", Metric.L2)) {
            pq.train(database);
            long[] ids = new long[2000];
            Arrays.setAll(ids, i -> i + 1);
            pq.addWithIds(database, ids);
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> pq.storedVectors(0, 10));
            assertTrue(e.getMessage().contains("does not keep its vectors whole"), e.getMessage());
            UnsupportedOperationException scored = assertThrows(UnsupportedOperationException.class,
                    () -> pq.exactDistances(TestVectors.row(database, D, 0), new long[] {1, 2}));
            assertTrue(scored.getMessage().contains("does not keep its vectors whole"), scored.getMessage());
        }
    }

    @Test
    void removeIdsRemovesExactlyThoseVectors() {
        float[] database = TestVectors.clustered(2000, D, 20, 10);
        long[] ids = new long[2000];
        Arrays.setAll(ids, i -> 10_000 + i);
        try (FaissIndex ivf = FaissIndex.create(D, "IVF8,Flat", Metric.L2)) {
            ivf.train(database);
            ivf.addWithIds(database, ids);
            ivf.setParameters("nprobe=8");
            assertEquals(2, ivf.removeIds(10_005, 10_100, 999_999));
            assertEquals(1998, ivf.ntotal());
            SearchResult result = ivf.search(TestVectors.row(database, D, 5), 20);
            for (long id : result.ids(0)) {
                assertNotEquals(10_005L, id);
                assertNotEquals(10_100L, id);
            }
            assertEquals(10_006, ivf.search(TestVectors.row(database, D, 6), 1).id(0, 0));
        }
    }

    @Test
    void removeIdsOnHnswIsUnsupported() {
        try (FaissIndex hnsw = FaissIndex.create(D, "HNSW16", Metric.L2)) {
            hnsw.add(TestVectors.random(100, D, 11));
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> hnsw.removeIds(1, 2));
            assertTrue(e.getMessage().contains("remove_ids not implemented"), e.getMessage());
            assertEquals(100, hnsw.ntotal());
        }
    }

    @Test
    void hnswAcceptsEfSearch() {
        float[] database = TestVectors.random(1000, D, 12);
        try (FaissIndex hnsw = FaissIndex.create(D, "HNSW16", Metric.L2)) {
            hnsw.add(database);
            hnsw.setParameters("efSearch=64");
            assertEquals(321, hnsw.search(TestVectors.row(database, D, 321), 1).id(0, 0));
        }
    }

    @Test
    void efConstructionBuildsABetterGraph() {
        float[] database = TestVectors.random(4000, D, 13);
        float[] queries = TestVectors.random(50, D, 14);
        // A sparse graph (M=8) inserted with a short candidate list misses far more neighbours.
        double hasty = hnswRecallAt10("efConstruction=8", database, queries);
        double careful = hnswRecallAt10("efConstruction=200", database, queries);
        assertTrue(careful > hasty + 0.08, "efConstruction=200 recall " + careful + " vs efConstruction=8 " + hasty);
    }

    private static double hnswRecallAt10(String build, float[] database, float[] queries) {
        try (FaissIndex hnsw = FaissIndex.create(D, "HNSW8", Metric.L2)) {
            hnsw.setParameters(build);
            hnsw.add(database);
            hnsw.setParameters("efSearch=16");
            SearchResult result = hnsw.search(queries, 10);
            int found = 0;
            for (int q = 0; q < result.queries(); q++) {
                Set<Long> returned = new HashSet<>();
                for (long id : result.ids(q)) {
                    returned.add(id);
                }
                for (int id : TestVectors.bruteForce(Metric.L2, database, queries, q, D, 10)) {
                    found += returned.contains((long) id) ? 1 : 0;
                }
            }
            return found / (10.0 * result.queries());
        }
    }

    @Test
    void efConstructionOutsideHnswIsAFaissError() {
        try (FaissIndex ivf = FaissIndex.create(D, "IVF4,Flat", Metric.L2)) {
            FaissException e = assertThrows(FaissException.class, () -> ivf.setParameters("efConstruction=100"));
            assertTrue(e.getMessage().contains("efConstruction"), e.getMessage());
        }
        try (FaissIndex hnsw = FaissIndex.create(D, "HNSW8", Metric.L2)) {
            FaissException e = assertThrows(FaissException.class, () -> hnsw.setParameters("efConstruction=0"));
            assertTrue(e.getMessage().contains("at least 1"), e.getMessage());
        }
    }

    @Test
    void perSearchEfSearchFindsManyNeighboursThroughIdMapAndLeavesTheSharedSettingAlone() {
        float[] database = TestVectors.random(5000, D, 15);
        float[] queries = TestVectors.random(20, D, 16);
        long[] ids = new long[5000];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1_000_000L + i;
        }
        int k = 200;
        try (FaissIndex index = FaissIndex.create(D, "IDMap,HNSW16", Metric.L2)) {
            index.addWithIds(database, ids);
            SearchResult shortList = index.search(queries, k); // FAISS's default efSearch, 16
            SearchResult longList = index.search(queries, k, 400);
            double shortRecall = recall(shortList, database, queries, k);
            double longRecall = recall(longList, database, queries, k);
            assertTrue(longRecall > 0.9, "efSearch 400 for k=200: recall " + longRecall);
            assertTrue(shortRecall < longRecall - 0.2, "efSearch 16 for k=200: recall " + shortRecall);
            assertArrayEquals(shortList.ids(0), index.search(queries, k).ids(0), "the shared efSearch is unchanged");
        }
    }

    @Test
    void refinedGraphOverReducedVectorsIsSearchedPerSearchLikeFaissItselfAndRescoresExactly() {
        float[] database = mostlyInTwelveDimensions(TestVectors.random(4000, D, 21));
        float[] queries = mostlyInTwelveDimensions(TestVectors.random(30, D, 22));
        long[] ids = new long[4000];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1_000_000L + i;
        }
        int k = 10;
        try (FaissIndex index = FaissIndex.create(D, "IDMap,PCA12,HNSW16,RFlat", Metric.L2)) {
            assertFalse(index.isTrained(), "the PCA needs training");
            index.train(database);
            index.addWithIds(database, ids);
            index.setParameters("k_factor_rf=4,efSearch=48");
            // FAISS's own IDMap -> Refine -> PreTransform -> HNSW search with the shared settings
            // and ours with the same list length per search must agree exactly.
            SearchResult faissOwn = index.search(queries, k);
            SearchResult perSearch = index.search(queries, k, 48);
            for (int q = 0; q < queries.length / D; q++) {
                assertArrayEquals(faissOwn.ids(q), perSearch.ids(q), "query " + q);
                for (int rank = 0; rank < k; rank++) {
                    long id = perSearch.ids(q)[rank];
                    double exact = TestVectors.distance(Metric.L2, queries, q, database, (int) (id - 1_000_000L), D);
                    assertEquals(exact, perSearch.distance(q, rank), 1e-4 * Math.max(1, exact),
                        "query " + q + " rank " + rank + " is scored on the full vector");
                    if (rank > 0) {
                        assertTrue(perSearch.distance(q, rank - 1) <= perSearch.distance(q, rank), "best first");
                    }
                }
            }
            // The twelve main dimensions alone misrank close neighbours; rescoring a longer list
            // of the reduced graph's candidates on the full vectors puts them back in order.
            index.setParameters("k_factor_rf=1");
            double reducedOnly = recall(index.search(queries, k, 48), database, queries, k);
            index.setParameters("k_factor_rf=16");
            double rescored = recall(index.search(queries, k, 160), database, queries, k);
            assertTrue(rescored > 0.9, "rescored recall " + rescored);
            assertTrue(rescored > reducedOnly + 0.15, "reduced only " + reducedOnly + " vs rescored " + rescored);
            try (FaissIndex copy = FaissIndex.deserialize(index.serialize())) {
                assertArrayEquals(index.search(queries, k, 160).ids(7), copy.search(queries, k, 160).ids(7),
                    "the refinement factor and the ids survive serialisation");
            }
        }
    }

    /** Keeps the first twelve coordinates and shrinks the other twenty to two fifths. */
    private static float[] mostlyInTwelveDimensions(float[] vectors) {
        float[] out = vectors.clone();
        for (int i = 0; i < out.length; i++) {
            if (i % D >= 12) {
                out[i] *= 0.4f;
            }
        }
        return out;
    }

    /** Share of the true k nearest found, with ids offset by 1,000,000 as added above. */
    private static double recall(SearchResult r, float[] database, float[] queries, int k) {
        int found = 0;
        for (int q = 0; q < r.queries(); q++) {
            Set<Long> returned = new HashSet<>();
            for (long id : r.ids(q)) {
                returned.add(id - 1_000_000L);
            }
            for (int id : TestVectors.bruteForce(Metric.L2, database, queries, q, D, k)) {
                found += returned.contains((long) id) ? 1 : 0;
            }
        }
        return found / ((double) k * r.queries());
    }

    @Test
    void perSearchNprobeFindsWhatTheUsualListsLackAndLeavesTheSharedSettingAlone() {
        float[] database = TestVectors.clustered(6000, D, 64, 31);
        float[] queries = TestVectors.random(10, D, 32);
        long[] ids = new long[6000];
        Arrays.setAll(ids, i -> 1_000_000L + i);
        int k = 500;
        try (FaissIndex index = FaissIndex.create(D, "IDMap,IVF64,Flat", Metric.L2)) {
            index.train(database);
            index.addWithIds(database, ids);
            index.setParameters("nprobe=1");
            assertEquals(64, index.probeableLists());
            SearchResult oneList = index.search(queries, k);
            assertTrue(valid(oneList) < queries.length / D * k, "one list of ~94 vectors cannot hold 500 neighbours");
            SearchResult everyList = index.searchProbing(queries, k, 64);
            assertEquals(queries.length / D * k, valid(everyList));
            assertEquals(1.0, recall(everyList, database, queries, k), 1e-9, "every list probed: exact");
            assertArrayEquals(everyList.allIds(), index.searchProbing(queries, k, 1000).allIds(),
                "nprobe beyond the list count probes every list");
            assertTrue(valid(index.searchProbing(queries, k, 8)) > valid(oneList), "more lists, more found");
            assertArrayEquals(oneList.allIds(), index.search(queries, k).allIds(), "the shared nprobe is unchanged");
        }
    }

    @Test
    void perSearchNprobeReachesAnInvertedFileBehindAPreTransformAndARefinement() {
        float[] database = mostlyInTwelveDimensions(TestVectors.clustered(4000, D, 32, 33));
        float[] queries = mostlyInTwelveDimensions(TestVectors.random(10, D, 34));
        long[] ids = new long[4000];
        Arrays.setAll(ids, i -> 1_000_000L + i);
        int k = 10;
        try (FaissIndex index = FaissIndex.create(D, "IDMap,PCA16,IVF16,Flat,RFlat", Metric.L2)) {
            index.train(database);
            index.addWithIds(database, ids);
            assertEquals(16, index.probeableLists());
            index.setParameters("nprobe=16,k_factor_rf=4");
            // FAISS's own IDMap -> Refine -> PreTransform -> IVF search with the shared nprobe and
            // ours with the same nprobe per search must agree exactly.
            assertArrayEquals(index.search(queries, k).allIds(), index.searchProbing(queries, k, 16).allIds());
        }
    }

    @Test
    void perSearchNprobeOutsideAnInvertedFileIsAFaissError() {
        try (FaissIndex flat = FaissIndex.create(D, "IDMap,Flat", Metric.L2)) {
            flat.addWithIds(TestVectors.random(10, D, 35), new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
            assertEquals(0, flat.probeableLists());
            FaissException e = assertThrows(FaissException.class, () -> flat.searchProbing(TestVectors.random(1, D, 36), 3, 4));
            assertTrue(e.getMessage().contains("needs an IVF index"), e.getMessage());
        }
        try (FaissIndex ivf = FaissIndex.create(D, "IVF4,Flat", Metric.L2)) {
            float[] database = TestVectors.random(200, D, 37);
            ivf.train(database);
            ivf.add(database);
            FaissException e = assertThrows(FaissException.class, () -> ivf.searchProbing(TestVectors.random(1, D, 38), 3, 0));
            assertTrue(e.getMessage().contains("at least 1"), e.getMessage());
        }
        try (FaissIndex fastScan = FaissIndex.create(D, "IVF4,PQ8x4fs", Metric.L2)) {
            float[] database = TestVectors.random(2000, D, 39);
            fastScan.train(database);
            fastScan.add(database);
            assertEquals(0, fastScan.probeableLists(), "FAISS 1.7.3's fast scan refuses search parameters");
            FaissException e = assertThrows(FaissException.class,
                () -> fastScan.searchProbing(TestVectors.random(1, D, 40), 3, 2));
            assertTrue(e.getMessage().contains("other than fast-scan"), e.getMessage());
        }
    }

    /** Results that are neighbours, not FAISS's -1 padding. */
    private static int valid(SearchResult r) {
        return (int) Arrays.stream(r.allIds()).filter(id -> id >= 0).count();
    }

    @Test
    void perSearchEfSearchOutsideHnswIsAFaissError() {
        try (FaissIndex flat = FaissIndex.create(D, "IDMap,Flat", Metric.L2)) {
            flat.addWithIds(TestVectors.random(10, D, 17), new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
            FaissException e = assertThrows(FaissException.class, () -> flat.search(TestVectors.random(1, D, 18), 3, 32));
            assertTrue(e.getMessage().contains("needs an HNSW index"), e.getMessage());
        }
        try (FaissIndex hnsw = FaissIndex.create(D, "HNSW8", Metric.L2)) {
            hnsw.add(TestVectors.random(10, D, 19));
            FaissException e = assertThrows(FaissException.class, () -> hnsw.search(TestVectors.random(1, D, 20), 3, 0));
            assertTrue(e.getMessage().contains("at least 1"), e.getMessage());
        }
    }

    @Test
    void unknownParameterIsAFaissError() {
        try (FaissIndex flat = FaissIndex.create(D, "IVF4,Flat", Metric.L2)) {
            FaissException e = assertThrows(FaissException.class, () -> flat.setParameters("noSuchKnob=3"));
            assertTrue(e.getMessage().contains("noSuchKnob"), e.getMessage());
        }
    }

    @Test
    void serializeRoundTripKeepsVectorsTrainingAndResults() {
        float[] database = TestVectors.clustered(3000, D, 30, 13);
        float[] queries = TestVectors.clustered(20, D, 30, 14);
        try (FaissIndex original = FaissIndex.create(D, "IVF16,Flat", Metric.INNER_PRODUCT)) {
            original.train(database);
            original.add(database);
            original.setParameters("nprobe=4");
            byte[] bytes = original.serialize();
            try (FaissIndex copy = FaissIndex.deserialize(bytes)) {
                assertEquals(3000, copy.ntotal());
                assertEquals(D, copy.dimension());
                assertEquals(Metric.INNER_PRODUCT, copy.metric());
                assertTrue(copy.isTrained());
                SearchResult expected = original.search(queries, 10);
                SearchResult actual = copy.search(queries, 10);
                assertArrayEquals(expected.allIds(), actual.allIds());
                assertArrayEquals(expected.allDistances(), actual.allDistances());
                assertArrayEquals(bytes, copy.serialize());
            }
        }
    }

    @Test
    void garbageBytesAreRejectedByFaiss() {
        FaissException e = assertThrows(FaissException.class, () -> FaissIndex.deserialize("not an index".getBytes()));
        assertTrue(e.getMessage().contains("not recognized"), e.getMessage());
    }

    @Test
    void fileRoundTripMatchesSerializedBytes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("index.faiss");
        float[] database = TestVectors.random(700, D, 15);
        try (FaissIndex original = FaissIndex.create(D, "IDMap,Flat", Metric.L2)) {
            long[] ids = new long[700];
            Arrays.setAll(ids, i -> 3L * i);
            original.addWithIds(database, ids);
            original.write(file);
            assertArrayEquals(original.serialize(), Files.readAllBytes(file));
            try (FaissIndex read = FaissIndex.read(file)) {
                assertEquals(700, read.ntotal());
                assertEquals(3L * 42, read.search(TestVectors.row(database, D, 42), 1).id(0, 0));
            }
        }
    }

    @Test
    void nonAsciiFileNamesReachFaissIntact(@TempDir Path dir) throws Exception {
        Path file;
        try {
            file = dir.resolve("índex-ü.faiss");
        } catch (InvalidPathException e) {
            Assumptions.abort("file-name encoding here cannot represent non-ASCII names: " + e.getMessage());
            return;
        }
        try (FaissIndex index = FaissIndex.create(D, "Flat", Metric.L2)) {
            index.add(TestVectors.random(3, D, 21));
            index.write(file);
        }
        assertTrue(Files.isRegularFile(file));
        try (FaissIndex read = FaissIndex.read(file)) {
            assertEquals(3, read.ntotal());
        }
    }

    @Test
    void missingFileIsAFaissErrorNamingThePath(@TempDir Path dir) {
        Path missing = dir.resolve("absent.faiss");
        FaissException e = assertThrows(FaissException.class, () -> FaissIndex.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void bogusFactoryStringCarriesFaissMessage() {
        FaissException e = assertThrows(FaissException.class, () -> FaissIndex.create(D, "Bogus42", Metric.L2));
        assertTrue(e.getMessage().contains("could not parse index string Bogus42"), e.getMessage());
    }

    @Test
    void shapeErrorsAreCaughtBeforeNativeCode() {
        try (FaissIndex index = FaissIndex.create(D, "Flat", Metric.L2)) {
            index.add(TestVectors.random(10, D, 16));
            assertThrows(IllegalArgumentException.class, () -> index.search(new float[D + 1], 1));
            assertThrows(IllegalArgumentException.class, () -> index.search(FloatBuffer.wrap(new float[D - 1]), 1));
            assertThrows(IllegalArgumentException.class, () -> index.add(new float[D * 2 + 3]));
            assertThrows(IllegalArgumentException.class, () -> index.search(new float[D], 0));
            assertEquals(10, index.ntotal());
        }
        try (FaissIndex ivf = FaissIndex.create(D, "IDMap,Flat", Metric.L2)) {
            assertThrows(IllegalArgumentException.class, () -> ivf.addWithIds(new float[2 * D], new long[] {1}));
            assertEquals(0, ivf.ntotal());
        }
        assertThrows(IllegalArgumentException.class, () -> FaissIndex.create(0, "Flat", Metric.L2));
        assertThrows(IllegalArgumentException.class, () -> FaissIndex.create(D, " ", Metric.L2));
    }

    @Test
    void buffersAreReadFromTheirPositionWhateverTheirKind() {
        float[] database = TestVectors.random(200, D, 17);
        float[] query = TestVectors.row(database, D, 77);
        try (FaissIndex index = FaissIndex.create(D, "Flat", Metric.L2)) {
            FloatBuffer direct = ByteBuffer.allocateDirect(database.length * 4 + 12).order(ByteOrder.nativeOrder()).asFloatBuffer();
            direct.put(new float[] {9, 9, 9}).put(database).flip().position(3);
            index.add(direct);
            assertEquals(3, direct.position());
            assertEquals(200, index.ntotal());

            FloatBuffer heap = FloatBuffer.allocate(D + 5);
            heap.position(5);
            heap.put(query).flip().position(5);
            FloatBuffer bigEndian = ByteBuffer.allocateDirect(D * 4).order(ByteOrder.BIG_ENDIAN).asFloatBuffer().put(query).flip();
            FloatBuffer readOnly = FloatBuffer.wrap(query).asReadOnlyBuffer();
            for (FloatBuffer queries : new FloatBuffer[] {heap, bigEndian, readOnly}) {
                SearchResult result = index.search(queries, 1);
                assertEquals(77, result.id(0, 0));
                assertEquals(0f, result.distance(0, 0), 1e-6f);
            }
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseFails() {
        FaissIndex index = FaissIndex.create(D, "Flat", Metric.L2);
        index.add(TestVectors.random(5, D, 18));
        index.close();
        index.close();
        assertThrows(IllegalStateException.class, index::ntotal);
        assertThrows(IllegalStateException.class, () -> index.search(new float[D], 1));
        assertThrows(IllegalStateException.class, index::serialize);
        assertEquals(D, index.dimension());
    }

    @Test
    void concurrentSearchesAgreeWithASerialOne() throws Exception {
        float[] database = TestVectors.random(2000, D, 19);
        float[] queries = TestVectors.random(64, D, 20);
        try (FaissIndex index = FaissIndex.create(D, "Flat", Metric.L2)) {
            index.add(database);
            long[] expected = index.search(queries, 5).allIds();
            // Futures, not bare threads: a search that throws must fail the test, not end its thread quietly.
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Integer>> agreeing = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    agreeing.add(pool.submit(() -> {
                        int same = 0;
                        for (int i = 0; i < 20; i++) {
                            same += Arrays.equals(expected, index.search(queries, 5).allIds()) ? 1 : 0;
                        }
                        return same;
                    }));
                }
                for (Future<Integer> f : agreeing) {
                    assertEquals(20, f.get(), "every concurrent search matches the serial one");
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
