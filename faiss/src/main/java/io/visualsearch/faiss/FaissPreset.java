package io.visualsearch.faiss;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.MemberGetter;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The hand-written JavaCPP preset: the JNI surface over libfaiss and the shim header
 * {@code visualsearch_faiss.h}. Package-private on purpose, so no Pointer reaches callers;
 * {@link FaissIndex} owns every native object created here.
 *
 * <p>Link libraries are listed in reverse dependency order because JavaCPP reverses them on
 * the command line, which must read {@code -lfaiss -lopenblas -lgomp} for the static libfaiss.a
 * to resolve. Every native method declares {@link FaissException}: JavaCPP then catches the C++
 * exception and throws that class with {@code what()} as the message.
 */
@Platform(
        value = "linux-x86_64",
        compiler = "cpp11",
        include = "visualsearch_faiss.h",
        link = {"gomp", "openblas", "faiss"})
@Namespace("visualsearch_faiss")
final class FaissPreset {

    static {
        // Must happen before any Pointer is created, see ensureLoaded().
        Loader.load();
    }

    private FaissPreset() {}

    /** Forces class initialisation, which loads the JNI library from the classpath or jar. */
    static void ensureLoaded() {
        // The static initialiser did the work.
    }

    /** Peer for {@code faiss::Index}; never allocated from Java, only received from FAISS. */
    @Name("::faiss::Index")
    static final class NativeIndex extends Pointer {
        static {
            Loader.load();
        }

        NativeIndex() {
            super((Pointer) null);
        }

        @MemberGetter @Name("d") native int dimension();

        @MemberGetter @Name("ntotal") @Cast("int64_t") native long ntotal();

        @MemberGetter @Name("is_trained") @Cast("bool") native boolean isTrained();

        native void train(@Cast("::faiss::Index::idx_t") long n, @Const float[] x) throws FaissException;

        native void train(@Cast("::faiss::Index::idx_t") long n, @Const FloatBuffer x) throws FaissException;

        native void add(@Cast("::faiss::Index::idx_t") long n, @Const float[] x) throws FaissException;

        native void add(@Cast("::faiss::Index::idx_t") long n, @Const FloatBuffer x) throws FaissException;

        @Name("add_with_ids")
        native void addWithIds(
                @Cast("::faiss::Index::idx_t") long n,
                @Const float[] x,
                @Cast("const ::faiss::Index::idx_t*") long[] ids) throws FaissException;

        @Name("add_with_ids")
        native void addWithIds(
                @Cast("::faiss::Index::idx_t") long n,
                @Const FloatBuffer x,
                @Cast("const ::faiss::Index::idx_t*") long[] ids) throws FaissException;

        native void search(
                @Cast("::faiss::Index::idx_t") long n,
                @Const float[] x,
                @Cast("::faiss::Index::idx_t") long k,
                float[] distances,
                @Cast("::faiss::Index::idx_t*") long[] labels) throws FaissException;

        native void search(
                @Cast("::faiss::Index::idx_t") long n,
                @Const FloatBuffer x,
                @Cast("::faiss::Index::idx_t") long k,
                float[] distances,
                @Cast("::faiss::Index::idx_t*") long[] labels) throws FaissException;

        native void reset() throws FaissException;
    }

    /** Peer for the shim's {@code SerializedIndex}; allocated from Java and closed right after copying. */
    @Name("SerializedIndex")
    static final class NativeSerializedIndex extends Pointer {
        static {
            Loader.load();
        }

        NativeSerializedIndex(NativeIndex index) {
            allocate(index);
        }

        private native void allocate(@Const NativeIndex index) throws FaissException;

        @Cast("int64_t") native long size();

        @Name("copy_to") native void copyTo(@Cast("int8_t*") byte[] out);
    }

    @Name("create_index")
    static native NativeIndex createIndex(int dimension, String description, int metricCode) throws FaissException;

    @Name("delete_index")
    static native void deleteIndex(NativeIndex index);

    @Name("metric_code")
    static native int metricCode(@Const NativeIndex index);

    @Name("remove_ids")
    @Cast("int64_t")
    static native long removeIds(NativeIndex index, @Cast("const int64_t*") long[] ids, @Cast("int64_t") long count)
            throws FaissException;

    @Name("set_index_parameters")
    static native void setIndexParameters(NativeIndex index, String parameters) throws FaissException;

    @Name("search_hnsw")
    static native void searchHnsw(
            @Const NativeIndex index,
            @Cast("int64_t") long n,
            @Const float[] x,
            @Cast("int64_t") long k,
            float[] distances,
            @Cast("int64_t*") long[] labels,
            int efSearch) throws FaissException;

    @Name("search_ivf")
    static native void searchIvf(
            @Const NativeIndex index,
            @Cast("int64_t") long n,
            @Const float[] x,
            @Cast("int64_t") long k,
            float[] distances,
            @Cast("int64_t*") long[] labels,
            int nprobe) throws FaissException;

    @Name("probeable_lists")
    @Cast("int64_t")
    static native long probeableLists(@Const NativeIndex index) throws FaissException;

    @Name("stored_vectors")
    static native void storedVectors(
            @Const NativeIndex index,
            @Cast("int64_t") long from,
            @Cast("int64_t") long n,
            float[] out,
            @Cast("int64_t*") long[] ids) throws FaissException;

    @Name("exact_distances")
    static native void exactDistances(
            @Const NativeIndex index,
            @Const float[] x,
            @Cast("const int64_t*") long[] ids,
            @Cast("int64_t") long n,
            float[] distances) throws FaissException;

    @Name("write_index_file")
    static native void writeIndexFile(@Const NativeIndex index, @Cast("const char*") byte[] nulTerminatedPath)
            throws FaissException;

    @Name("read_index_file")
    static native NativeIndex readIndexFile(@Cast("const char*") byte[] nulTerminatedPath) throws FaissException;

    @Name("read_index_bytes")
    static native NativeIndex readIndexBytes(@Cast("const int8_t*") byte[] bytes, @Cast("int64_t") long size)
            throws FaissException;

    @Name("set_omp_threads")
    static native void setOmpThreads(int threads);

    @Name("omp_max_threads")
    static native int ompMaxThreads();

    @Name("set_blas_threads")
    static native void setBlasThreads(int threads);

    @Name("blas_threads")
    static native int blasThreads();

    @Name("set_exhaustive_blas_threshold")
    static native void setExhaustiveBlasThreshold(int queries);

    @Name("exhaustive_blas_threshold")
    static native int exhaustiveBlasThreshold();
}
