package io.visualsearch.imagevalidation;

import java.util.concurrent.Semaphore;

/**
 * How many pixels may be decoding at once across the threads that share one validator. A decoder
 * holds memory in proportion to the declared image, much of it outside the Java heap (a
 * progressive JPEG keeps every DCT coefficient in native memory: ~3 bytes a pixel), so four
 * threads decoding 49-megapixel progressive JPEGs at once took 578 MiB beside the heap. An image
 * waits until its pixels fit; one larger than the whole budget waits for all others and then
 * decodes alone. Used by the catalog's validator and by search-api's query decoder.
 */
public final class DecodeBudget {

  /** Permits are kilopixels, so budgets up to two trillion pixels fit a semaphore's int. */
  private static final long PIXELS_PER_PERMIT = 1000;

  private final Semaphore permits;
  private final int total;

  public DecodeBudget(long pixels) {
    if (pixels < 1) {
      throw new IllegalArgumentException("the decode budget must be positive");
    }
    this.total = (int) Math.min(Integer.MAX_VALUE, Math.max(1, pixels / PIXELS_PER_PERMIT));
    this.permits = new Semaphore(total, true);
  }

  /** Waits until {@code pixels} fit in the budget; closing the grant gives them back. */
  public Grant acquire(long pixels) {
    int wanted = (int) Math.min(total, Math.max(1, (pixels + PIXELS_PER_PERMIT - 1) / PIXELS_PER_PERMIT));
    permits.acquireUninterruptibly(wanted);
    return new Grant(wanted);
  }

  /** Pixels (rounded to thousands) not held by any decode right now. */
  public long availablePixels() {
    return (long) permits.availablePermits() * PIXELS_PER_PERMIT;
  }

  /** One decode's share of the budget. */
  public final class Grant implements AutoCloseable {
    private int held;

    private Grant(int held) {
      this.held = held;
    }

    @Override
    public void close() {
      if (held > 0) {
        permits.release(held);
        held = 0;
      }
    }
  }
}
