package io.visualsearch.indexbuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The files of one index version, ready to upload: the sku and image maps in memory, the FAISS
 * files and the exact vectors of quantised shards in temporary files, which {@link #close()}
 * deletes.
 *
 * @param training whether this build trained its quantiser, needed none, or reused an earlier one
 */
record BuiltIndex(List<Shard> shards, byte[] skuMap, byte[] imageMap, int vectors, Training training)
    implements AutoCloseable {

  /** Where the index's quantiser (IVF lists, PQ codebooks, PCA projection) came from. */
  enum Training {
    /** The recipe has none. */
    NONE,
    /** Trained by this build, on a sample of its own vectors. */
    TRAINED,
    /** The tenant's earlier training, fitted to the catalog as it was then. */
    REUSED
  }

  /** Whether this build trained its quantiser (false: none needed, or reused). */
  boolean trained() {
    return training == Training.TRAINED;
  }

  /**
   * One FAISS file, written by FAISS into a temporary file: held as an array, every shard of a
   * large graph tenant (~1 GiB each) was on the heap at once until the upload.
   *
   * @param exactVectors the shard's {@code ShardVectors} file for readers to rescore with, or null
   *     when the FAISS file's scores are exact
   */
  record Shard(String fileName, Path file, int vectors, ExactVectors exactVectors) {

    /** The temporary files this shard holds. */
    List<Path> files() {
      return exactVectors == null ? List.of(file) : List.of(file, exactVectors.file());
    }
  }

  /** A shard's full vectors, written to a temporary file because they are ~50 times its codes. */
  record ExactVectors(String fileName, Path file) {}

  @Override
  public void close() {
    deleteFiles(shards);
  }

  /** Deletes every shard's temporary files, trying all before it throws the first failure. */
  static void deleteFiles(List<Shard> shards) {
    UncheckedIOException failure = null;
    for (Shard s : shards) {
      for (Path file : s.files()) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException e) {
          if (failure == null) {
            failure = new UncheckedIOException("cannot delete " + file, e);
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
  static void discardFiles(List<Shard> shards, Throwable cause) {
    for (Shard s : shards) {
      for (Path file : s.files()) {
        discard(file, cause);
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
