package io.visualsearch.responseconsumer;

import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.pipeline.PoisonRecordException;
import java.util.List;

/**
 * How much of the heap a similar-items run may take, judged from the version's manifest before any
 * of its files is read: a catalog that does not fit is refused with the size it needs instead of
 * failing the whole service with OutOfMemoryError, which would also stop archiving answers and, the
 * record being redelivered, repeat at every restart.
 */
final class HeapAllowance {

  /** Of the heap, what a run's per-product data may take; the rest is fixed costs (Kafka's fetch buffers, one chunk). */
  static final double HEAP_SHARE = 0.6;
  /**
   * The vector's map entry, its sku and the float array's header; its places in the sorted and the
   * cursor's lists, its file's listed ETag and ledger mark.
   */
  static final long BYTES_PER_PRODUCT_BESIDE_VECTOR = 192;
  /**
   * The loaded index's id → sku entry (a Long, the sku, the map's slots) and, while it loads,
   * skus.tsv's bytes, its text and the map it is parsed into before being copied.
   */
  static final long BYTES_PER_INDEXED_PRODUCT = 160;

  private final long bytesAllowed;

  HeapAllowance(long bytesAllowed) {
    this.bytesAllowed = bytesAllowed;
  }

  /** {@value #HEAP_SHARE} of this JVM's maximum heap. */
  static HeapAllowance ofThisJvm() {
    return new HeapAllowance((long) (Runtime.getRuntime().maxMemory() * HEAP_SHARE));
  }

  /** The bytes a run over {@code m} holds on the heap; the shards themselves are native memory. */
  static long needed(IndexManifest m) {
    return vectors(m) * (4L * m.dimension() + BYTES_PER_PRODUCT_BESIDE_VECTOR + BYTES_PER_INDEXED_PRODUCT);
  }

  void check(IndexManifest m) throws PoisonRecordException {
    long needed = needed(m);
    if (needed > bytesAllowed) {
      throw new PoisonRecordException("catalog-exceeds-heap", "similar items of " + m.tenant() + "/" + m.version()
          + " need ~" + mib(needed) + " MiB of heap for " + vectors(m) + " vectors of " + m.dimension()
          + " dimensions and their skus; this instance allows them " + mib(bytesAllowed) + " MiB ("
          + (int) (HEAP_SHARE * 100) + " % of its " + mib(Runtime.getRuntime().maxMemory()) + " MiB heap): give"
          + " response-consumer more memory and send this record back from the dead-letter topic (./visual-search redrive index.published.dlq --reason=catalog-exceeds-heap)");
    }
  }

  /** The shards' counts, which loading holds the shards and skus.tsv to. */
  private static long vectors(IndexManifest m) {
    List<IndexManifest.ShardFile> shards = m.shards() == null ? List.of() : m.shards();
    return shards.stream().mapToLong(IndexManifest.ShardFile::vectors).sum();
  }

  private static long mib(long bytes) {
    return (bytes + (1 << 20) - 1) >> 20;
  }
}
