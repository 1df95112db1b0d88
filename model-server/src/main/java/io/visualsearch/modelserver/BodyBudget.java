package io.visualsearch.modelserver;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Heap shared by the request bodies of one front end being read, parsed and decoded, in estimated
 * bytes: one budget for REST's bodies, one for gRPC's messages ({@link GrpcMessageBudget}). A JSON
 * body costs many times its size once Jackson has built its tree, and a gRPC message three times
 * (buffered, parsed, decoded), so a few large ones at once could exhaust the heap both share; a
 * budget turns that into prompt refusals (REST 503, gRPC UNAVAILABLE) instead of an out-of-memory
 * exit for everyone. It never waits: a request that does not fit is refused, and the client retries.
 */
final class BodyBudget {

  /**
   * Estimated heap per REST body byte while it is decoded: Jackson's tree measured 12-14x the body for
   * uint8 images in row format (about 40 bytes per number, a list per pixel), plus the body itself
   * and the decoded tensor.
   */
  static final int EXPANSION = 16;

  private final long limit;
  private final AtomicLong used = new AtomicLong();

  BodyBudget(long limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("budget must be positive: " + limit);
    }
    this.limit = limit;
  }

  long limit() {
    return limit;
  }

  /** Estimated bytes held by requests in flight now. */
  long used() {
    return used.get();
  }

  /** An empty lease for one request; grow it as the body's size becomes known, close it when the reply is sent. */
  Lease lease() {
    return new Lease();
  }

  /** One request's share; not thread-safe (a request is handled on one thread). */
  final class Lease implements AutoCloseable {

    private long held;

    /**
     * Adds {@code bytes} to this request's share, or returns false and adds nothing when the
     * budget has not got them. A share is capped at the whole budget, so a body whose estimate
     * exceeds it still runs, but only while no other body holds anything.
     */
    boolean grow(long bytes) {
      long want = Math.min(bytes, limit - held);
      if (want <= 0) {
        return true;
      }
      while (true) {
        long now = used.get();
        if (now + want > limit) {
          return false;
        }
        if (used.compareAndSet(now, now + want)) {
          held += want;
          return true;
        }
      }
    }

    long held() {
      return held;
    }

    @Override
    public void close() {
      used.addAndGet(-held);
      held = 0;
    }
  }
}
