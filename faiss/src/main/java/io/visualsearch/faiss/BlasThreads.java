package io.visualsearch.faiss;

/**
 * OpenBLAS's thread pool, which FAISS uses for matrix products: exact search of 20 or more
 * queries at once and k-means training. Unlike {@link OpenMpThreads} this is one setting for
 * the whole process. When FAISS already parallelises with OpenMP, or requests are served on
 * several threads, one BLAS thread avoids the two pools fighting over the same cores.
 */
public final class BlasThreads {

    static {
        FaissPreset.ensureLoaded();
    }

    private BlasThreads() {}

    public static void setForProcess(int threads) {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive, got " + threads);
        }
        FaissPreset.setBlasThreads(threads);
    }

    public static int forProcess() {
        return FaissPreset.blasThreads();
    }
}
