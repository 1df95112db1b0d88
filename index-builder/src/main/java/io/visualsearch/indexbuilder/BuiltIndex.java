package io.visualsearch.indexbuilder;

import java.util.List;

/**
 * The files of one index version, in memory, ready to upload.
 *
 * @param trained whether this build trained its quantiser (false: none needed, or reused)
 */
record BuiltIndex(List<Shard> shards, byte[] skuMap, int vectors, boolean trained) {

  /** One FAISS file. */
  record Shard(String fileName, byte[] bytes, int vectors) {}
}
