package io.visualsearch.responseconsumer;

import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.pipeline.PoisonRecordException;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How much memory outside the heap a similar-items run may give FAISS, judged from the version's
 * manifest before any shard is read. The loaded shards live in native memory, which the heap
 * guard ({@link HeapAllowance}) does not see: a Flat catalog of a few hundred thousand products
 * took the process past its container's limit, the kernel killed it, and every restart read the
 * same publication again until the start count dead-lettered it. Refused here instead, with the
 * size it needs, the record goes to the dead-letter topic at once and the service goes on archiving.
 */
final class NativeAllowance {

  private static final Logger log = LoggerFactory.getLogger(NativeAllowance.class);

  /**
   * What the JVM itself takes outside the heap in this service: class metadata and compiled code
   * (the AWS SDK, Kafka's and Jackson's classes), thread stacks, the collector's structures and
   * the I/O buffers of the store's and broker's clients. An estimate, with room: where it is wrong
   * for a deployment, {@code SIMILAR_ITEMS_NATIVE_MEMORY_BYTES} says the allowance outright.
   */
  static final long JVM_OWN_BYTES = 256L << 20;

  private final long bytesAllowed;
  private final String basis;

  /** {@code basis}: how the allowance was arrived at, for the refusal's message. */
  NativeAllowance(long bytesAllowed, String basis) {
    this.bytesAllowed = bytesAllowed;
    this.basis = basis;
  }

  /**
   * The machine's memory (the container's limit, as the JVM reads it) less the largest heap and
   * {@link #JVM_OWN_BYTES}. When that leaves nothing, the heap was sized without regard to the
   * machine (a developer's {@code -Xmx} on a small box), its limit says nothing about what is free,
   * and refusing every version would be wrong: the check is off, with a warning at start.
   */
  static NativeAllowance derived(long machineBytes, long maxHeapBytes) {
    long allowed = machineBytes - maxHeapBytes - JVM_OWN_BYTES;
    if (allowed <= 0) {
      log.warn("the {} MiB heap leaves no memory beside it on this machine ({} MiB): similar-items runs are not"
          + " checked for the memory their shards need outside the heap; set SIMILAR_ITEMS_NATIVE_MEMORY_BYTES to"
          + " check them", mib(maxHeapBytes), mib(machineBytes));
      return new NativeAllowance(Long.MAX_VALUE, "unchecked");
    }
    return new NativeAllowance(allowed, "the " + mib(machineBytes) + " MiB of memory this instance has, less its "
        + mib(maxHeapBytes) + " MiB heap and ~" + mib(JVM_OWN_BYTES) + " MiB the JVM takes itself");
  }

  /**
   * {@code configuredBytes} ({@code SIMILAR_ITEMS_NATIVE_MEMORY_BYTES}) when positive; otherwise
   * {@link #derived} from this machine's (or container's) memory and this JVM's maximum heap.
   */
  static NativeAllowance of(long configuredBytes) {
    if (configuredBytes > 0) {
      return new NativeAllowance(configuredBytes, "SIMILAR_ITEMS_NATIVE_MEMORY_BYTES");
    }
    long machine = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getTotalMemorySize();
    return derived(machine, Runtime.getRuntime().maxMemory());
  }

  long bytesAllowed() {
    return bytesAllowed;
  }

  /**
   * The native memory a run over {@code m} holds: its shards, which FAISS keeps about as laid out
   * in their files. A quantised shard's exact vectors are read from disk, not held in memory.
   */
  static long needed(IndexManifest m) {
    List<IndexManifest.ShardFile> shards = m.shards() == null ? List.of() : m.shards();
    return shards.stream().mapToLong(IndexManifest.ShardFile::bytes).sum();
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
    return (bytes + (1 << 20) - 1) >> 20;
  }
}
