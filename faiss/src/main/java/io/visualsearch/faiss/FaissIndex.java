package io.visualsearch.faiss;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * One FAISS index in native memory, owned by this object until {@link #close()}.
 *
 * <p>Vectors are passed row-major: {@code n × dimension} floats in one array or buffer. Shapes
 * are checked here before anything reaches native code ({@link IllegalArgumentException});
 * failures inside FAISS surface as {@link FaissException} with FAISS's message, and operations
 * an index type does not implement (for example {@code removeIds} on HNSW, {@code addWithIds}
 * on a bare {@code Flat}) as {@link UnsupportedOperationException} carrying that exception.
 *
 * <p>Thread-safety: searches run concurrently with each other; everything that changes the
 * index (train, add, remove, reset, parameters, close) waits for running searches and runs
 * alone. After {@code close()} every method but {@code close()} throws
 * {@link IllegalStateException}; closing again does nothing.
 */
public final class FaissIndex implements AutoCloseable {

    static {
        // The JNI library must be loaded before any Pointer exists.
        FaissPreset.ensureLoaded();
    }

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final String origin;
    private final int dimension;
    private final Metric metric;
    private FaissPreset.NativeIndex handle;

    private FaissIndex(FaissPreset.NativeIndex handle, String origin) {
        if (handle == null || handle.isNull()) {
            throw new FaissException("FAISS returned no index for " + origin);
        }
        try {
            this.dimension = handle.dimension();
            this.metric = Metric.fromCode(FaissPreset.metricCode(handle));
        } catch (RuntimeException e) {
            FaissPreset.deleteIndex(handle);
            throw e;
        }
        this.handle = handle;
        this.origin = origin;
    }

    /**
     * Builds an empty index from a FAISS index_factory description such as {@code "Flat"},
     * {@code "IVF1024,Flat"}, {@code "HNSW32"} or {@code "IDMap,Flat"}.
     */
    public static FaissIndex create(int dimension, String factoryString, Metric metric) {
        if (dimension <= 0) {
            throw new IllegalArgumentException("dimension must be positive, got " + dimension);
        }
        Objects.requireNonNull(factoryString, "factoryString");
        Objects.requireNonNull(metric, "metric");
        if (factoryString.isBlank()) {
            throw new IllegalArgumentException("factoryString must not be blank");
        }
        return new FaissIndex(FaissPreset.createIndex(dimension, factoryString, metric.code()),
                "'" + factoryString + "' d=" + dimension);
    }

    /** Reads an index written by {@link #write(Path)} or by FAISS's own {@code write_index}. */
    public static FaissIndex read(Path file) {
        Path absolute = file.toAbsolutePath();
        return new FaissIndex(FaissPreset.readIndexFile(nativePath(absolute)), "index read from " + absolute);
    }

    /** Rebuilds an index from the bytes of {@link #serialize()} (the FAISS file format). */
    public static FaissIndex deserialize(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length == 0) {
            throw new IllegalArgumentException("no bytes to deserialize");
        }
        return new FaissIndex(FaissPreset.readIndexBytes(bytes, bytes.length),
                "index deserialized from " + bytes.length + " bytes");
    }

    public int dimension() {
        return dimension;
    }

    public Metric metric() {
        return metric;
    }

    /** Number of vectors currently in the index. */
    public long ntotal() {
        return shared(() -> handle.ntotal());
    }

    public boolean isTrained() {
        return shared(() -> handle.isTrained());
    }

    /** Trains on {@code vectors.length / dimension} rows; a no-op for index types that need none. */
    public void train(float[] vectors) {
        long n = rows(vectors);
        exclusive(() -> handle.train(n, vectors));
    }

    /** Trains on the buffer's remaining floats; the buffer's position is left unchanged. */
    public void train(FloatBuffer vectors) {
        FloatBuffer readable = nativeReadable(vectors);
        long n = rows(readable);
        exclusive(() -> handle.train(n, readable));
    }

    /** Adds rows with sequential ids starting at the current {@link #ntotal()}. */
    public void add(float[] vectors) {
        long n = rows(vectors);
        exclusive(() -> handle.add(n, vectors));
    }

    public void add(FloatBuffer vectors) {
        FloatBuffer readable = nativeReadable(vectors);
        long n = rows(readable);
        exclusive(() -> handle.add(n, readable));
    }

    /** Adds rows under caller-chosen ids (one per row). Needs an index with id support, e.g. IVF or "IDMap,...". */
    public void addWithIds(float[] vectors, long[] ids) {
        long n = rows(vectors);
        checkIds(n, ids);
        exclusive(() -> unsupportedAware("addWithIds", () -> handle.addWithIds(n, vectors, ids)));
    }

    public void addWithIds(FloatBuffer vectors, long[] ids) {
        FloatBuffer readable = nativeReadable(vectors);
        long n = rows(readable);
        checkIds(n, ids);
        exclusive(() -> unsupportedAware("addWithIds", () -> handle.addWithIds(n, readable, ids)));
    }

    /**
     * Searches {@code queries.length / dimension} queries at once; FAISS spreads a batch over
     * the calling thread's OpenMP threads (see {@link OpenMpThreads}).
     */
    public SearchResult search(float[] queries, int k) {
        int n = Math.toIntExact(rows(queries));
        int size = resultSize(n, k);
        long[] ids = new long[size];
        float[] distances = new float[size];
        shared(() -> {
            handle.search(n, queries, k, distances, ids);
            return null;
        });
        return new SearchResult(n, k, ids, distances);
    }

    public SearchResult search(FloatBuffer queries, int k) {
        FloatBuffer readable = nativeReadable(queries);
        int n = Math.toIntExact(rows(readable));
        int size = resultSize(n, k);
        long[] ids = new long[size];
        float[] distances = new float[size];
        shared(() -> {
            handle.search(n, readable, k, distances, ids);
            return null;
        });
        return new SearchResult(n, k, ids, distances);
    }

    /**
     * Searches an HNSW graph with its own candidate list of {@code efSearch}, leaving the index's
     * shared setting alone, so concurrent searches may each use their own. The graph may sit
     * inside {@code IDMap}, a refinement ({@code …,RFlat}: the graph's best {@code k × k_factor}
     * are rescored on the full vectors) and a pre-transform ({@code PCA128,…}). FAISS's HNSW does
     * not widen its list to k: asking for many neighbours with a short list finds only part of
     * them.
     */
    public SearchResult search(float[] queries, int k, int efSearch) {
        int n = Math.toIntExact(rows(queries));
        int size = resultSize(n, k);
        long[] ids = new long[size];
        float[] distances = new float[size];
        shared(() -> {
            FaissPreset.searchHnsw(handle, n, queries, k, distances, ids, efSearch);
            return null;
        });
        return new SearchResult(n, k, ids, distances);
    }

    /**
     * Searches an inverted file probing {@code nprobe} of its lists (at most all of them), leaving
     * the index's shared nprobe alone, so concurrent searches may each probe their own. The IVF
     * index may sit inside the same wrappers as {@link #search(float[], int, int)}'s graph. An
     * IVF search finds only what its probed lists hold: past that it pads the k results with -1.
     * Only where {@link #probeableLists()} is positive: FAISS 1.7.3's fast-scan inverted files
     * ({@code …x4fs}) refuse it.
     */
    public SearchResult searchProbing(float[] queries, int k, int nprobe) {
        int n = Math.toIntExact(rows(queries));
        int size = resultSize(n, k);
        long[] ids = new long[size];
        float[] distances = new float[size];
        shared(() -> {
            FaissPreset.searchIvf(handle, n, queries, k, distances, ids, nprobe);
            return null;
        });
        return new SearchResult(n, k, ids, distances);
    }

    /**
     * The list count (nlist) of the inverted file {@link #searchProbing} can search, inside the same
     * wrappers; 0 when there is none (no inverted file, or a fast-scan one).
     */
    public int probeableLists() {
        return shared(() -> Math.toIntExact(FaissPreset.probeableLists(handle)));
    }

    /**
     * The distance from {@code query} (one vector) to each of {@code ids}, as this index's search
     * reports it for that vector (a refinement's exact distance where there is one); NaN for an id
     * the index does not hold. For scoring a known set of vectors, such as the few thousand
     * products a selective filter matches, exactly and without a search: one pass over the
     * index's ids per call. Only for indexes that keep their vectors whole (Flat, HNSW's flat
     * storage, a refinement's flat index, an inverted file of flat lists, inside IDMap or not); others throw
     * {@link UnsupportedOperationException}.
     */
    public float[] exactDistances(float[] query, long[] ids) {
        Objects.requireNonNull(ids, "ids");
        if (rows(query) != 1) {
            throw new IllegalArgumentException("one query vector of " + dimension + " floats, got " + query.length);
        }
        float[] distances = new float[ids.length];
        shared(() -> {
            unsupportedAware("exactDistances",
                    () -> FaissPreset.exactDistances(handle, query, ids, ids.length, distances));
            return null;
        });
        return distances;
    }

    /** Vectors the index holds, row-major, with their ids ({@link #storedVectors}). */
    public record StoredVectors(long[] ids, float[] vectors) {}

    /**
     * Rows {@code from .. from + count - 1} of the vectors as they were added, each beside its id,
     * for an index that keeps them whole: Flat, HNSW's flat storage, a refinement's flat index, an
     * inverted file of flat lists (inside IDMap or not). Rows are in the index's own order (an
     * inverted file's list by list), so paging through {@code 0 .. ntotal} reads each vector once.
     * Quantised indexes (PQ, SQ codes) and pre-transformed ones without a refinement keep only
     * approximations: {@link UnsupportedOperationException}.
     */
    public StoredVectors storedVectors(long from, int count) {
        if (from < 0 || count < 0) {
            throw new IllegalArgumentException("rows must not be negative: from " + from + ", count " + count);
        }
        long size = (long) count * dimension;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(count + " rows of " + dimension + " floats do not fit one array");
        }
        long[] ids = new long[count];
        float[] vectors = new float[(int) size];
        shared(() -> {
            unsupportedAware("storedVectors", () -> FaissPreset.storedVectors(handle, from, count, vectors, ids));
            return null;
        });
        return new StoredVectors(ids, vectors);
    }

    /** Removes the given ids and returns how many vectors were removed. */
    public long removeIds(long... ids) {
        Objects.requireNonNull(ids, "ids");
        long[] removed = new long[1];
        exclusive(() -> unsupportedAware("removeIds",
                () -> removed[0] = FaissPreset.removeIds(handle, ids, ids.length)));
        return removed[0];
    }

    /** Drops all vectors; training (e.g. IVF centroids) is kept. */
    public void reset() {
        exclusive(() -> handle.reset());
    }

    /**
     * Applies FAISS ParameterSpace settings, e.g. {@code "nprobe=16"} for IVF or
     * {@code "efSearch=64"} for HNSW, several separated by commas; also {@code "efConstruction=100"}
     * for HNSW, which FAISS's ParameterSpace lacks and which counts only for vectors added after it.
     */
    public void setParameters(String parameters) {
        Objects.requireNonNull(parameters, "parameters");
        if (parameters.isBlank()) {
            throw new IllegalArgumentException("parameters must not be blank");
        }
        exclusive(() -> FaissPreset.setIndexParameters(handle, parameters));
    }

    /** Writes the index in FAISS's file format, readable by the Python FAISS tools. */
    public void write(Path file) {
        byte[] path = nativePath(file.toAbsolutePath());
        shared(() -> {
            FaissPreset.writeIndexFile(handle, path);
            return null;
        });
    }

    /** The index in FAISS's file format, as bytes. Use {@link #write(Path)} for indexes over 2 GB. */
    public byte[] serialize() {
        return shared(() -> {
            try (FaissPreset.NativeSerializedIndex serialized = new FaissPreset.NativeSerializedIndex(handle)) {
                long size = serialized.size();
                if (size > Integer.MAX_VALUE - 8) {
                    throw new FaissException("serialized index is " + size + " bytes, too large for a byte[]; write it to a file");
                }
                byte[] bytes = new byte[(int) size];
                serialized.copyTo(bytes);
                return bytes;
            }
        });
    }

    /** Frees the native index; waits for running searches. Safe to call more than once. */
    @Override
    public void close() {
        Lock writeLock = lock.writeLock();
        writeLock.lock();
        try {
            if (handle != null) {
                FaissPreset.deleteIndex(handle);
                handle.setNull();
                handle = null;
            }
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public String toString() {
        return "FaissIndex[" + origin + ", metric=" + metric + "]";
    }

    private <T> T shared(Supplier<T> action) {
        Lock readLock = lock.readLock();
        readLock.lock();
        try {
            ensureOpen();
            return action.get();
        } finally {
            readLock.unlock();
        }
    }

    private void exclusive(Runnable action) {
        Lock writeLock = lock.writeLock();
        writeLock.lock();
        try {
            ensureOpen();
            action.run();
        } finally {
            writeLock.unlock();
        }
    }

    private void ensureOpen() {
        if (handle == null) {
            throw new IllegalStateException("FaissIndex " + origin + " is closed");
        }
    }

    private void unsupportedAware(String operation, Runnable action) {
        try {
            action.run();
        } catch (FaissException e) {
            // FAISS's base-class defaults throw "<op> not implemented for this type of index".
            String message = e.getMessage();
            if (message != null && message.contains("not implemented")) {
                throw new UnsupportedOperationException(
                        operation + " is not supported by FAISS index " + origin + ": " + message, e);
            }
            throw e;
        }
    }

    private long rows(float[] vectors) {
        Objects.requireNonNull(vectors, "vectors");
        return rows(vectors.length);
    }

    private long rows(FloatBuffer vectors) {
        return rows(vectors.remaining());
    }

    private long rows(int floats) {
        if (floats % dimension != 0) {
            throw new IllegalArgumentException("expected a multiple of dimension " + dimension
                    + " floats (row-major n × d), got " + floats);
        }
        return floats / dimension;
    }

    private static void checkIds(long rows, long[] ids) {
        Objects.requireNonNull(ids, "ids");
        if (ids.length != rows) {
            throw new IllegalArgumentException("expected one id per vector (" + rows + "), got " + ids.length);
        }
    }

    private static int resultSize(int queries, int k) {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        long size = (long) queries * k;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(queries + " queries × k=" + k + " results do not fit one result array; search in smaller batches");
        }
        return (int) size;
    }

    /**
     * The path as the C library expects it: in the platform's file-name encoding (what the JDK
     * itself uses for file names, not necessarily the default charset), NUL-terminated.
     */
    private static byte[] nativePath(Path path) {
        Charset charset;
        try {
            charset = Charset.forName(System.getProperty("sun.jnu.encoding", Charset.defaultCharset().name()));
        } catch (IllegalArgumentException e) {
            charset = Charset.defaultCharset();
        }
        byte[] encoded = path.toString().getBytes(charset);
        return Arrays.copyOf(encoded, encoded.length + 1);
    }

    /**
     * Native code reads direct buffers in place and heap buffers through their array; anything
     * else (a foreign byte order, read-only heap views) is copied so the bytes FAISS sees are
     * the floats the caller meant.
     */
    private static FloatBuffer nativeReadable(FloatBuffer buffer) {
        Objects.requireNonNull(buffer, "vectors");
        if (buffer.isDirect() ? buffer.order() == ByteOrder.nativeOrder() : buffer.hasArray()) {
            return buffer;
        }
        float[] copy = new float[buffer.remaining()];
        buffer.duplicate().get(copy);
        return FloatBuffer.wrap(copy);
    }
}
