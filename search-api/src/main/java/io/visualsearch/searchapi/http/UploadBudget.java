package io.visualsearch.searchapi.http;

import io.visualsearch.searchapi.ApiException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The heap that request bodies being read and parsed may hold at once, in bytes. Nothing else
 * bounds that phase but the request threads (~100), and each may hold an upload of up to
 * {@code SEARCH_MAX_UPLOAD_BYTES} several times over while it is parsed: ~50 concurrent 10 MiB
 * uploads filled a 1.5 GiB heap, and {@code -XX:+ExitOnOutOfMemoryError} ended the pod. So a body
 * reserves its bytes times {@link #PARSE_COPIES} before it is read (its declared length, or step by
 * step as a chunked body grows), and a reservation that does not fit is refused at once with 503
 * {@code overloaded} and Retry-After, like admission's: a burst sheds load instead of the process.
 *
 * <p>One tenant holds at most {@link #TENANT_SHARE} of it: a tenant's uploads (one leaked key
 * trickling large bodies at the minimum pace, or a storefront's burst) are refused with 503
 * {@code tenant_overloaded} while other tenants' are still read, as admission does for searches.
 *
 * <p>Like image-validation's {@code DecodeBudget} for pixels, but for request bytes; the pixels a
 * query decodes are that budget's business, not this one's.
 */
public final class UploadBudget {

  /**
   * Heap a body costs per byte while it is parsed: the body itself, the image bytes taken out of
   * it (a multipart part, or base64 decoded from JSON, 3/4 of its size), and the parsers' working
   * buffers. Counted from the code: multipart holds the body, the image part's content and the
   * image array copied from it (3x while it is copied), JSON the body and the decoded image (1.75x).
   */
  public static final int PARSE_COPIES = 3;

  /**
   * Share of the largest heap ({@link Runtime#maxMemory()}) that request bodies may hold at once:
   * a quarter, ~384 MiB of a 1.5 GiB heap, which is twelve 10 MiB uploads at their peak, or ~60 of
   * the 2 MB a phone photo usually is; the rest stays for the indexes' catalog data, the fresh
   * deltas, the decoders' pixels (bounded by {@code SEARCH_MAX_IMAGE_PIXELS}) and answers.
   */
  public static final double HEAP_SHARE = 0.25;

  /**
   * Share of the budget one tenant's bodies may hold at once: half, like admission's default
   * {@code SEARCH_MAX_PER_TENANT} (40 of 80 places), so no one tenant can leave the others nothing.
   */
  public static final double TENANT_SHARE = 0.5;

  private final long capacity;
  private final long perTenant;
  /** Bytes all reservations hold. */
  private final AtomicLong heldByAll = new AtomicLong();
  /** Bytes each tenant holds; tenants are the configured few, so entries are kept. */
  private final Map<String, AtomicLong> heldByTenant = new ConcurrentHashMap<>();

  /** A budget of {@code capacityBytes} (heap bytes, parse copies included). */
  public UploadBudget(long capacityBytes) {
    if (capacityBytes <= 0) {
      throw new IllegalArgumentException("an upload budget needs a positive capacity");
    }
    this.capacity = capacityBytes;
    this.perTenant = Math.max(1, (long) (capacityBytes * TENANT_SHARE));
  }

  /**
   * The budget for a heap of {@code maxHeapBytes} ({@link Runtime#maxMemory()}): {@link #HEAP_SHARE}
   * of it. The heap is the process's, so the service builds one and every reader of request bodies
   * shares it: HTTP uploads, and gRPC messages as they arrive (the gRPC call limit is sized from it too).
   */
  public static UploadBudget ofHeap(long maxHeapBytes) {
    return new UploadBudget((long) (maxHeapBytes * HEAP_SHARE));
  }

  public long capacity() {
    return capacity;
  }

  /** Heap bytes not reserved right now. */
  public long available() {
    return capacity - heldByAll.get();
  }

  /** The heap that {@code bodyBytes} of request body cost while parsed ({@link #PARSE_COPIES} each). */
  public static long costOf(long bodyBytes) {
    return bodyBytes > Long.MAX_VALUE / PARSE_COPIES ? Long.MAX_VALUE : bodyBytes * PARSE_COPIES;
  }

  /** Bytes one tenant's bodies may hold at once ({@link #TENANT_SHARE} of the capacity). */
  long perTenant() {
    return perTenant;
  }

  /** Bytes {@code tenant}'s bodies hold right now. */
  long heldBy(String tenant) {
    AtomicLong held = heldByTenant.get(tenant);
    return held == null ? 0 : held.get();
  }

  /** An empty reservation for {@code tenant}, to {@link Reservation#grow} as a body of unknown length arrives. */
  public Reservation open(String tenant) {
    return new Reservation(heldByTenant.computeIfAbsent(tenant, t -> new AtomicLong()));
  }

  /**
   * A reservation of {@code heapBytes} for {@code tenant}, or 503 at once when it does not fit
   * beside the others: {@code tenant_overloaded} when the tenant's share is spent, {@code
   * overloaded} when the whole budget is. A reservation larger than a tenant's share is taken as
   * the whole share, so one upload of the largest accepted size is always read when nothing else
   * is.
   */
  public Reservation reserve(String tenant, long heapBytes) {
    Reservation r = open(tenant);
    r.grow(heapBytes);
    return r;
  }

  private static boolean tryTake(AtomicLong from, long bytes, long limit) {
    while (true) {
      long now = from.get();
      if (now + bytes > limit) {
        return false;
      }
      if (from.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  static ApiException overloaded() {
    return ApiException.unavailable("overloaded", "too many uploads are being read at once, retry shortly", 1, null);
  }

  static ApiException tenantOverloaded() {
    return ApiException.unavailable("tenant_overloaded", "this catalog's uploads being read at once hold its share"
        + " of the server's memory, retry shortly", 1, null);
  }

  /** Heap bytes taken from the budget; {@link #close} gives them back, exactly once. */
  public final class Reservation implements AutoCloseable {
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong tenantHeld;
    private long held;

    private Reservation(AtomicLong tenantHeld) {
      this.tenantHeld = tenantHeld;
    }

    /** Bytes this reservation holds. */
    public synchronized long held() {
      return held;
    }

    /**
     * Takes {@code moreHeapBytes} more (at most what is left of a tenant's share), or throws 503
     * {@code tenant_overloaded} or {@code overloaded} at once when they do not fit; what it held
     * already stays held.
     */
    public synchronized void grow(long moreHeapBytes) {
      if (moreHeapBytes <= 0) {
        return;
      }
      if (closed.get()) {
        throw new IllegalStateException("the reservation was closed");
      }
      long take = Math.min(moreHeapBytes, perTenant - held);
      if (take <= 0) {
        return;
      }
      if (!tryTake(tenantHeld, take, perTenant)) {
        throw tenantOverloaded();
      }
      if (!tryTake(heldByAll, take, capacity)) {
        tenantHeld.addAndGet(-take);
        throw overloaded();
      }
      held += take;
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        long give;
        synchronized (this) {
          give = held;
          held = 0;
        }
        tenantHeld.addAndGet(-give);
        heldByAll.addAndGet(-give);
      }
    }
  }
}
