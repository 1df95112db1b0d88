package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ProcessRssTest {

  @Test
  void readsVmRssInKilobytes() {
    assertEquals(523_412, ProcessRss.parse("Name:\tjava\nVmPeak:\t 9999 kB\nVmRSS:\t  523412 kB\nThreads:\t40\n"));
    assertThrows(IllegalArgumentException.class, () -> ProcessRss.parse("Name:\tjava\n"));
  }

  @Test
  void thisJvmHasAResidentSet() throws Exception {
    assertTrue(ProcessRss.kilobytes(ProcessHandle.current().pid()) > 1000);
  }
}
