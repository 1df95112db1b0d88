package io.visualsearch.searchapi.index;

import io.visualsearch.indexformat.ShardVectors;
import java.io.IOException;
import java.util.List;

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
  private final RefCount refs = new RefCount();

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
    return refs.tryRetain();
  }

  /** Releases this version's reference to each file of {@code all} (entries may be null). */
  static void releaseAll(List<SharedShardVectors> all) {
    for (SharedShardVectors v : all) {
      if (v != null) {
        v.release();
      }
    }
  }

  void release() {
    if (refs.release("exact vectors " + sha256)) {
      try {
        vectors.close();
      } catch (IOException e) {
        // Closing a read-only file gives nothing back to act on.
      }
    }
  }
}
