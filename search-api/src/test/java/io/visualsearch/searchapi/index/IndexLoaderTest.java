package io.visualsearch.searchapi.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.faiss.FaissException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class IndexLoaderTest {

  /** Out of native memory is retried; what FAISS says of a file's content refuses the version. */
  @Test
  void onlyRunningOutOfNativeMemoryIsThisInstancesOwnFailure() {
    assertTrue(IndexLoader.outOfNativeMemory(new FaissException("std::bad_alloc")));
    assertFalse(IndexLoader.outOfNativeMemory(new FaissException(
        "Error in faiss::Index* faiss::read_index(IOReader*, int) at impl/index_read.cpp:1106: Index type 0x0 not"
            + " recognized")));
    assertFalse(IndexLoader.outOfNativeMemory(new FaissException(null)));
  }

  /**
   * images.tsv is optional: one this reader cannot parse (a later builder's layout) is left out, and
   * the version still serves; a damaged copy is refused earlier, by its checksum.
   */
  @Test
  void anImagesFileThisReaderCannotParseIsLeftOutNotTheVersion() {
    byte[] later = "3\t0000000000000002\n9 v2:000000000000000a\n".getBytes(StandardCharsets.UTF_8);
    assertEquals(0, IndexLoader.imageKeysOrNone("acme/v", later).size());
    byte[] readable = "3\t0000000000000002\n".getBytes(StandardCharsets.UTF_8);
    assertEquals(2, IndexLoader.imageKeysOrNone("acme/v", readable).keyOf(3));
  }
}
