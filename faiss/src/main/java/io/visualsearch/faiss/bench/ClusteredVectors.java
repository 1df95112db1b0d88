package io.visualsearch.faiss.bench;

import java.util.Random;

/**
 * Deterministic synthetic embeddings: Gaussian blobs around random centres, closer to real
 * image embeddings than uniform noise (IVF lists are uneven and neighbours are meaningful).
 */
final class ClusteredVectors {
    private final int dimension;
    private final float[] centres;
    private final int clusters;
    private final float spread;

    ClusteredVectors(int dimension, int clusters, float spread, long seed) {
        this.dimension = dimension;
        this.clusters = clusters;
        this.spread = spread;
        this.centres = new float[clusters * dimension];
        Random random = new Random(seed);
        for (int i = 0; i < centres.length; i++) {
            centres[i] = random.nextFloat();
        }
    }

    /** {@code n × dimension} row-major floats drawn from the blobs with the given seed. */
    float[] sample(int n, long seed) {
        Random random = new Random(seed);
        float[] vectors = new float[Math.multiplyExact(n, dimension)];
        for (int row = 0; row < n; row++) {
            int centre = random.nextInt(clusters) * dimension;
            int base = row * dimension;
            for (int j = 0; j < dimension; j++) {
                vectors[base + j] = centres[centre + j] + spread * (float) random.nextGaussian();
            }
        }
        return vectors;
    }
}
