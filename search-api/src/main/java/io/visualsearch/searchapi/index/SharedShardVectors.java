package io.visualsearch.searchapi.index;

import io.visualsearch.indexformat.ShardVectors;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An open exact-vectors file shared by the index versions whose manifests name the same content
 * (same sha256): a rebuild that left a shard's vectors as they were, or a periodic retraining,
 * reuses the file the served version already holds instead of downloading it again. Reference
 * counted like {@link LoadedIndex}: each version holding it has one reference, and the last
 * release closes the file.
 */
final class SharedShardVectors {

  private final ShardVectors vectors;
  private final String sha256;
  private final AtomicInteger refs = new AtomicInteger(1);

  SharedShardVectors(ShardVectors vectors, String sha256) {
    this.vectors = vectors;
    this.sha256 = sha256;
  }

  ShardVectors vectors() {
    return vectors;
  }

  /** The content it holds, as the manifest that named it said; null when unknown (never reused). */
  String sha256() {
    return sha256;
  }

  /** Takes a reference unless the file was already closed. */
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

  void release() {
    if (refs.decrementAndGet() == 0) {
      try {
        vectors.close();
      } catch (IOException e) {
        // Closing a read-only file gives nothing back to act on.
      }
    }
  }
}
