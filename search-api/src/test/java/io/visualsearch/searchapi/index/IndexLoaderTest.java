package io.visualsearch.searchapi.index;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.faiss.FaissException;
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
}
