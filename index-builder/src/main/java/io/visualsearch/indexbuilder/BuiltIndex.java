package io.visualsearch.indexbuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The files of one index version, ready to upload: FAISS files and the sku map in memory, the
 * exact vectors of quantised shards in temporary files, which {@link #close()} deletes.
 *
 * @param trained whether this build trained its quantiser (false: none needed, or reused)
 */
record BuiltIndex(List<Shard> shards, byte[] skuMap, int vectors, boolean trained) implements AutoCloseable {

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

  static void deleteExactVectors(List<Shard> shards) {
    for (Shard s : shards) {
      if (s.exactVectors() != null) {
        try {
          Files.deleteIfExists(s.exactVectors().file());
        } catch (IOException e) {
          throw new UncheckedIOException("cannot delete " + s.exactVectors().file(), e);
        }
      }
    }
  }
}
