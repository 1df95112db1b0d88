package io.visualsearch.responseconsumer;

import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.searchapi.index.NativeMemoryBudget;

/**
 * How much memory outside the heap a similar-items run may give FAISS, judged from the version's
 * manifest before any shard is read. The loaded shards live in native memory, which the heap
 * guard ({@link HeapAllowance}) does not see: a Flat catalog of a few hundred thousand products
 * took the process past its container's limit, the kernel killed it, and every restart read the
 * same publication again until the start count dead-lettered it. Refused here instead, with the
 * size it needs, the record goes to the dead-letter topic at once and the service goes on archiving.
 */
final class NativeAllowance {

  /**
   * What the JVM itself takes outside the heap in this service: class metadata and compiled code
   * (the AWS SDK, Kafka's and Jackson's classes), thread stacks, the collector's structures and
   * the I/O buffers of the store's and broker's clients. An estimate, with room: where it is wrong
   * for a deployment, {@code SIMILAR_ITEMS_NATIVE_MEMORY_BYTES} says the allowance outright.
   */
  static final long JVM_OWN_BYTES = 256L << 20;
  private static final String SETTING = "SIMILAR_ITEMS_NATIVE_MEMORY_BYTES";

  private final long bytesAllowed;
  private final String basis;

  /** {@code basis}: how the allowance was arrived at, for the refusal's message. */
  NativeAllowance(long bytesAllowed, String basis) {
    this.bytesAllowed = bytesAllowed;
    this.basis = basis;
  }

  /** The allowance search-api's loader works out for its own shards, with this service's JVM and setting. */
  private NativeAllowance(NativeMemoryBudget budget) {
    this(budget.bytesAllowed(), budget.basis());
  }

  /**
   * The machine's memory (the container's limit) less the largest heap and {@link #JVM_OWN_BYTES};
   * unchecked, with a warning, when that leaves nothing (a heap sized without regard to the machine).
   */
  static NativeAllowance derived(long machineBytes, long maxHeapBytes) {
    return new NativeAllowance(NativeMemoryBudget.derived(machineBytes, maxHeapBytes, JVM_OWN_BYTES, SETTING));
  }

  /**
   * {@code configuredBytes} ({@code SIMILAR_ITEMS_NATIVE_MEMORY_BYTES}) when positive; otherwise
   * {@link #derived} from this machine's (or container's) memory and this JVM's maximum heap.
   */
  static NativeAllowance of(long configuredBytes) {
    return new NativeAllowance(NativeMemoryBudget.of(configuredBytes, JVM_OWN_BYTES, SETTING));
  }

  long bytesAllowed() {
    return bytesAllowed;
  }

  /**
   * The native memory a run over {@code m} holds: its shards, as search-api holds them. A quantised
   * shard's exact vectors are read from disk, not held in memory.
   */
  static long needed(IndexManifest m) {
    return NativeMemoryBudget.needed(m);
  }

  void check(IndexManifest m) throws PoisonRecordException {
    long needed = needed(m);
    if (needed > bytesAllowed) {
      throw new PoisonRecordException("catalog-exceeds-native-memory", "similar items of " + m.tenant() + "/"
          + m.version() + " need ~" + mib(needed) + " MiB outside the heap for the index's shards; this instance"
          + " allows them " + mib(bytesAllowed) + " MiB (" + basis + "): give response-consumer more memory, or set"
          + " SIMILAR_ITEMS_NATIVE_MEMORY_BYTES where that estimate is wrong, and send this record back from the"
          + " dead-letter topic (./visual-search redrive index.published.dlq --reason=catalog-exceeds-native-memory)");
    }
  }

  private static long mib(long bytes) {
    return NativeMemoryBudget.mib(bytes);
  }
}
