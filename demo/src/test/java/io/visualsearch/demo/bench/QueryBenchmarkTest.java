package io.visualsearch.demo.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class QueryBenchmarkTest {

  @Test
  void failedCallsAreCountedButLeftOutOfThePercentiles() throws Exception {
    double[] into = new double[8];
    // Every third call fails, as a quick 401 or 503 from search-api would.
    int failed = QueryBenchmark.timeEach(6, 0, into, 2, i -> i % 3 != 0);
    assertEquals(2, failed);
    Percentiles measured = new Percentiles(Arrays.copyOfRange(into, 2, 8));
    assertEquals(4, measured.count(), "only the four answered calls are in the sample");
    for (int i = 0; i < 6; i++) {
      assertEquals(i % 3 != 0, !Double.isNaN(into[2 + i]), "call " + i);
    }
    assertTrue(measured.at(0) >= 0);
  }

  @Test
  void aRoundWhereEveryCallFailedHasNothingToMeasure() throws Exception {
    double[] into = new double[3];
    assertEquals(3, QueryBenchmark.timeEach(3, 0, into, 0, i -> false));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Percentiles(into));
    assertTrue(e.getMessage().contains("no call succeeded"), e.getMessage());
  }
}
