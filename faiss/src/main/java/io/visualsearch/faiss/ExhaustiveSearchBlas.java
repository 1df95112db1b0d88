package io.visualsearch.faiss;

/**
 * When FAISS's exhaustive search ({@code Flat}, and the exact scoring inside other indexes) uses
 * a BLAS matrix product instead of one distance at a time: from {@link #threshold()} queries per
 * call on (FAISS's default 20). Debian's FAISS computes single distances with baseline x86-64
 * code, while OpenBLAS picks kernels for the CPU at run time, so on these machines one query
 * against 20,000 vectors of 768 dimensions took 20.7 ms one by one and 2.2 ms through BLAS.
 * Like {@link BlasThreads}, one setting for the whole process.
 */
public final class ExhaustiveSearchBlas {

    static {
        FaissPreset.ensureLoaded();
    }

    private ExhaustiveSearchBlas() {}

    /** Searches of at least {@code queries} queries use BLAS; 1 makes every exhaustive search use it. */
    public static void setThreshold(int queries) {
        if (queries <= 0) {
            throw new IllegalArgumentException("queries must be positive, got " + queries);
        }
        FaissPreset.setExhaustiveBlasThreshold(queries);
    }

    public static int threshold() {
        return FaissPreset.exhaustiveBlasThreshold();
    }
}
