package io.visualsearch.searchapi.index;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reference count that starts at one (the creator's) and, once it reaches zero, can never be
 * retained again: whoever releases the last reference frees the resource, and a reader that lost
 * the race learns so from {@link #tryRetain()} instead of using a freed resource.
 */
final class RefCount {

  private final AtomicInteger refs = new AtomicInteger(1);

  /** Takes a reference unless the count already reached zero. */
  boolean tryRetain() {
    while (true) {
      int r = refs.get();
      if (r <= 0) {
        return false;
      }
      if (refs.compareAndSet(r, r + 1)) {
        return true;
      }
    }
  }

  /**
   * Drops one reference; true for the call that dropped the last one.
   *
   * @throws IllegalStateException when released more often than retained ({@code what} names it)
   */
  boolean release(String what) {
    int r = refs.decrementAndGet();
    if (r < 0) {
      throw new IllegalStateException(what + " released more often than retained");
    }
    return r == 0;
  }

  /** References currently held; 0 once released by all. */
  int held() {
    return Math.max(0, refs.get());
  }
}
