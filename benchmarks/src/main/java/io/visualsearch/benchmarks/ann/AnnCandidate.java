package io.visualsearch.benchmarks.ann;

import java.util.List;

/**
 * One approximate-nearest-neighbour index under test, by inner product over unit vectors. The
 * benchmark builds it once, then sweeps its search-time settings, one query per call on one thread.
 */
interface AnnCandidate extends AutoCloseable {

  /** Engine and configuration, e.g. {@code faiss IVF1024,Flat}. */
  String name();

  /** {@code faiss} or {@code lucene}. */
  String engine();

  /** Indexes {@code n} row-major vectors under ids 0..n-1. */
  void build(float[] vectors, int n) throws Exception;

  /** Bytes the built index needs (its serialized / on-directory size). */
  long bytes() throws Exception;

  /** Bytes it reads from local disk rather than keeps in memory (exact vectors to rescore with). */
  default long diskBytes() {
    return 0;
  }

  /** The part of {@link #bytes()} that does not grow with the vector count (trained quantizers). */
  long fixedBytes();

  /** Search-time settings to sweep, from fastest to most exact. */
  List<String> settings();

  void apply(String setting);

  /** Ids of the {@code k} best vectors for one query, best first. */
  long[] search(float[] query, int k) throws Exception;

  @Override
  void close();
}
