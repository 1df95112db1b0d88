package io.visualsearch.searchapi.index;

import io.visualsearch.indexformat.IndexManifest;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The native memory the loaded FAISS shards of every tenant may take together, judged from each
 * version's manifest before any shard is read. The shards live outside the heap, which nothing
 * else bounds: a large tenant's publication made every replica load it at once beside the version
 * it served, the container's limit was passed, the kernel killed them all, and every restart loaded
 * every tenant again. A version that does not fit beside what is loaded is not loaded: its tenant
 * keeps the version it serves (none at start), and the swapper tries again with its back-off, by
 * when a released version may have made room.
 *
 * <p>A version reserves the sum of its shard files' sizes (FAISS holds a shard about as laid out in
 * its file; the exact vectors of a quantised shard are read from disk, not held) before its shards
 * are read, and gives it back when its native memory is actually freed: once the registry and the
 * last query leasing it have let go ({@link LoadedIndex#release()}), not at the swap.
 */
public final class NativeMemoryBudget {

  private static final Logger log = LoggerFactory.getLogger(NativeMemoryBudget.class);

  /**
   * What the JVM itself takes outside the heap in this service: class metadata and compiled code,
   * thread stacks (a request thread per running or waiting search), the collector's structures,
   * Jetty's, gRPC's (Netty's direct buffers), Kafka's and the store client's buffers. An estimate,
   * with room: where it is wrong for a deployment, {@code SEARCH_NATIVE_MEMORY_BYTES} says the
   * allowance outright.
   */
  static final long JVM_OWN_BYTES = 384L << 20;
  private static final String SETTING = "SEARCH_NATIVE_MEMORY_BYTES";

  private final long bytesAllowed;
  private final String basis;
  /** Bytes reserved by the versions loaded or loading; guarded by this. */
  private long reserved;
  /** Told each time a reservation is given back: a load refused for room may fit now. */
  private final java.util.List<Runnable> onRelease = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** {@code basis}: how the allowance was arrived at, for the refusal's message. */
  public NativeMemoryBudget(long bytesAllowed, String basis) {
    this.bytesAllowed = bytesAllowed;
    this.basis = basis;
  }

  /** No check: for readers that load one version at a time on their own terms (and tests). */
  public static NativeMemoryBudget unchecked() {
    return new NativeMemoryBudget(Long.MAX_VALUE, "unchecked");
  }

  /**
   * The machine's memory (the container's limit, as the JVM reads it) less the largest heap and
   * {@link #JVM_OWN_BYTES}. When that leaves nothing, the heap was sized without regard to the
   * machine (a developer's {@code -Xmx} on a small box), its limit says nothing about what is free,
   * and refusing every version would be wrong: the check is off, with a warning at start.
   */
  public static NativeMemoryBudget derived(long machineBytes, long maxHeapBytes) {
    return derived(machineBytes, maxHeapBytes, JVM_OWN_BYTES, SETTING);
  }

  /**
   * As {@link #derived(long, long)} for a service whose JVM takes {@code jvmOwnBytes} outside the
   * heap itself, and whose setting {@code setting} says the allowance outright (response-consumer's
   * similar-items runs load shards too).
   */
  public static NativeMemoryBudget derived(long machineBytes, long maxHeapBytes, long jvmOwnBytes, String setting) {
    long allowed = machineBytes - maxHeapBytes - jvmOwnBytes;
    if (allowed <= 0) {
      log.warn("the {} MiB heap leaves no memory beside it on this machine ({} MiB): index shards are not checked"
          + " for the native memory they need; set {} to check them", mib(maxHeapBytes), mib(machineBytes), setting);
      return unchecked();
    }
    return new NativeMemoryBudget(allowed, "the " + mib(machineBytes) + " MiB of memory this instance has, less its "
        + mib(maxHeapBytes) + " MiB heap and ~" + mib(jvmOwnBytes) + " MiB the JVM takes itself");
  }

  /**
   * {@code configuredBytes} ({@code SEARCH_NATIVE_MEMORY_BYTES}) when positive; otherwise
   * {@link #derived} from this machine's (or container's) memory and this JVM's maximum heap.
   */
  public static NativeMemoryBudget of(long configuredBytes) {
    return of(configuredBytes, JVM_OWN_BYTES, SETTING);
  }

  /** As {@link #of(long)} for another service's {@code setting} and JVM ({@link #derived(long, long, long, String)}). */
  public static NativeMemoryBudget of(long configuredBytes, long jvmOwnBytes, String setting) {
    if (configuredBytes > 0) {
      return new NativeMemoryBudget(configuredBytes, setting);
    }
    long machine = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getTotalMemorySize();
    return derived(machine, Runtime.getRuntime().maxMemory(), jvmOwnBytes, setting);
  }

  public long bytesAllowed() {
    return bytesAllowed;
  }

  public String basis() {
    return basis;
  }

  /** Bytes reserved now by the versions loaded or loading. */
  public synchronized long reserved() {
    return reserved;
  }

  /** The native memory a loaded version of {@code m} holds: its shards. */
  public static long needed(IndexManifest m) {
    List<IndexManifest.ShardFile> shards = m.shards() == null ? List.of() : m.shards();
    return shards.stream().mapToLong(IndexManifest.ShardFile::bytes).sum();
  }

  /**
   * Reserves what a version of {@code m} needs, to be given back with {@link Reservation#release}
   * once its memory is freed.
   *
   * @throws Exceeded when it does not fit beside the versions loaded and loading
   */
  public Reservation reserve(IndexManifest m) {
    long needed = needed(m);
    long before;
    synchronized (this) {
      before = reserved;
      if (needed > bytesAllowed) {
        throw new Exceeded("index " + m.tenant() + "/" + m.version() + " needs ~" + mib(needed) + " MiB of native"
            + " memory for its shards (" + needed + " bytes), more than the " + mib(bytesAllowed) + " MiB this"
            + " instance allows all versions together (" + basis + "): it is never loaded here, and the tenant"
            + " keeps what it serves, if anything. Give search-api more memory (or a smaller heap), set"
            + " SEARCH_NATIVE_MEMORY_BYTES where that estimate is wrong, or have the tenant's index built smaller"
            + " (a quantised recipe)", true);
      }
      if (before + needed > bytesAllowed) {
        throw new Exceeded("index " + m.tenant() + "/" + m.version() + " needs ~" + mib(needed) + " MiB of native"
            + " memory for its shards (" + needed + " bytes) beside the ~" + mib(before) + " MiB the versions loaded"
            + " here hold (during a swap the served version of the same tenant counts too); this instance allows"
            + " them " + mib(bytesAllowed) + " MiB (" + basis + "). Not loaded: the tenant keeps the version it"
            + " serves, and it is tried again with back-off. Give search-api more memory (or a smaller heap), or set"
            + " SEARCH_NATIVE_MEMORY_BYTES where that estimate is wrong", false);
      }
      reserved = before + needed;
    }
    return new Reservation(needed);
  }

  /**
   * Runs {@code listener} after each reservation given back (on the releasing thread: it must only
   * queue work).
   */
  public void onRelease(Runnable listener) {
    onRelease.add(listener);
  }

  /** What one version reserved; given back once. */
  public final class Reservation {
    private final long bytes;
    private boolean released;

    private Reservation(long bytes) {
      this.bytes = bytes;
    }

    public long bytes() {
      return bytes;
    }

    public void release() {
      synchronized (NativeMemoryBudget.this) {
        if (released) {
          return;
        }
        released = true;
        reserved -= bytes;
      }
      onRelease.forEach(Runnable::run);
    }
  }

  /** A version that does not fit: this instance's state, retried with back-off, not the version's fault. */
  public static final class Exceeded extends RuntimeException {
    private final boolean neverFits;

    Exceeded(String message, boolean neverFits) {
      super(message, null, false, false);
      this.neverFits = neverFits;
    }

    /** Larger alone than everything this instance allows: no release of other versions makes room. */
    public boolean neverFits() {
      return neverFits;
    }
  }

  public static long mib(long bytes) {
    return (bytes + (1 << 20) - 1) >> 20;
  }
}
