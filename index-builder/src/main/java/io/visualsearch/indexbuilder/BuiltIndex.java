package io.visualsearch.indexbuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The files of one index version, ready to upload: FAISS files, the sku and image maps in memory, the
 * exact vectors of quantised shards in temporary files, which {@link #close()} deletes.
 *
 * @param trained whether this build trained its quantiser (false: none needed, or reused)
 */
record BuiltIndex(List<Shard> shards, byte[] skuMap, byte[] imageMap, int vectors, boolean trained) implements AutoCloseable {

  /**
   * One FAISS file.
   *
   * @param exactVectors the shard's {@code ShardVectors} file for readers to rescore with, or null
   *     when the FAISS file's scores are exact
   */
  record Shard(String fileName, byte[] bytes, int vectors, ExactVectors exactVectors) {}

  /** A shard's full vectors, written to a temporary file because they are ~50 times its codes. */
  record ExactVectors(String fileName, Path file) {}

  @Override
  public void close() {
    deleteExactVectors(shards);
  }

  /** Deletes every shard's temporary vectors file, trying all before it throws the first failure. */
  static void deleteExactVectors(List<Shard> shards) {
    UncheckedIOException failure = null;
    for (Shard s : shards) {
      if (s.exactVectors() != null) {
        try {
          Files.deleteIfExists(s.exactVectors().file());
        } catch (IOException e) {
          if (failure == null) {
            failure = new UncheckedIOException("cannot delete " + s.exactVectors().file(), e);
          } else {
            failure.addSuppressed(e);
          }
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * Deletes the temporary files of a build that failed with {@code cause}: a failure to delete is
   * attached to the cause, which stays what the caller sees.
   */
  static void discardExactVectors(List<Shard> shards, Throwable cause) {
    for (Shard s : shards) {
      if (s.exactVectors() != null) {
        discard(s.exactVectors().file(), cause);
      }
    }
  }

  /** Deletes a failed step's temporary file; a failure to delete is attached to {@code cause}. */
  static void discard(Path file, Throwable cause) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }
}
