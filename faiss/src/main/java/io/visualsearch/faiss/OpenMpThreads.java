package io.visualsearch.faiss;

/**
 * How many OpenMP threads FAISS uses for calls made from the current thread.
 *
 * <p>OpenMP keeps this setting per OS thread, and every Java platform thread is one, so a
 * value set here applies to FAISS calls made later from the same Java thread only. A search
 * service that runs queries on a pool should set it once in each pool thread (often to 1,
 * parallelising across requests instead of inside one).
 */
public final class OpenMpThreads {

    static {
        FaissPreset.ensureLoaded();
    }

    private OpenMpThreads() {}

    public static void setForCurrentThread(int threads) {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive, got " + threads);
        }
        FaissPreset.setOmpThreads(threads);
    }

    /** The OpenMP thread count FAISS would use for a call from the current thread. */
    public static int forCurrentThread() {
        return FaissPreset.ompMaxThreads();
    }
}
