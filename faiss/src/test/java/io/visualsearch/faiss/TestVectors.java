package io.visualsearch.faiss;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;

/** Deterministic test data and the brute-force ground truth FAISS is held to. */
final class TestVectors {
    private TestVectors() {}

    static float[] random(int n, int dimension, long seed) {
        Random random = new Random(seed);
        float[] vectors = new float[n * dimension];
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = random.nextFloat();
        }
        return vectors;
    }

    /** Points around {@code clusters} centres, so IVF lists are meaningful. */
    static float[] clustered(int n, int dimension, int clusters, long seed) {
        Random random = new Random(seed);
        float[] centres = random(clusters, dimension, seed + 1);
        float[] vectors = new float[n * dimension];
        for (int row = 0; row < n; row++) {
            int centre = random.nextInt(clusters);
            for (int j = 0; j < dimension; j++) {
                vectors[row * dimension + j] = centres[centre * dimension + j] + 0.05f * (float) random.nextGaussian();
            }
        }
        return vectors;
    }

    static float[] row(float[] vectors, int dimension, int row) {
        return Arrays.copyOfRange(vectors, row * dimension, (row + 1) * dimension);
    }

    /** Distance in double precision, in FAISS's sense for the metric. */
    static double distance(Metric metric, float[] a, int aRow, float[] b, int bRow, int dimension) {
        double sum = 0;
        for (int j = 0; j < dimension; j++) {
            double x = a[aRow * dimension + j];
            double y = b[bRow * dimension + j];
            sum += metric == Metric.L2 ? (x - y) * (x - y) : x * y;
        }
        return sum;
    }

    /** Row numbers of the k best database rows for one query, best first. */
    static int[] bruteForce(Metric metric, float[] database, float[] queries, int query, int dimension, int k) {
        int n = database.length / dimension;
        Comparator<Integer> closerFirst = Comparator.comparingDouble(
                row -> distance(metric, queries, query, database, row, dimension));
        if (metric == Metric.INNER_PRODUCT) {
            closerFirst = closerFirst.reversed();
        }
        return IntStream.range(0, n).boxed().sorted(closerFirst).limit(k).mapToInt(Integer::intValue).toArray();
    }
}
