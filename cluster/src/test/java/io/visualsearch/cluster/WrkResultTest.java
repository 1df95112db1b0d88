package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class WrkResultTest {

  private static final String REPORT = """
      Running 10s test @ http://127.0.0.1:8080/api/v1/search
        2 threads and 8 connections
        Thread Stats   Avg      Stdev     Max   +/- Stdev
          Latency    45.10ms   12.30ms 210.00ms   80.00%
          Req/Sec    88.10     10.20   110.00     70.00%
        Latency Distribution
           50%   42.50ms
           75%   50.00ms
           90%   60.10ms
           99%    1.20s
        1762 requests in 10.01s, 1.20MB read
        Socket errors: connect 0, read 2, write 0, timeout 3
        Non-2xx or 3xx responses: 4
      Requests/sec:    176.02
      Transfer/sec:    122.00KB
      """;

  @Test
  void readsPercentilesInTheirUnitsAndCountsEveryKindOfError() {
    WrkResult r = WrkResult.parse(REPORT);
    assertEquals(42.5, r.p50Millis(), 1e-9);
    assertEquals(1200.0, r.p99Millis(), 1e-9);
    assertEquals(1762, r.requests());
    assertEquals(9, r.errors());
    assertEquals(176.02, r.qps(), 0.01);
  }

  @Test
  void microsecondsAndACleanRunHaveNoErrors() {
    WrkResult r = WrkResult.parse("""
          50%  850.00us
          99%    2.50ms
        100 requests in 1.00s, 1KB read
        """);
    assertEquals(0.85, r.p50Millis(), 1e-9);
    assertEquals(0, r.errors());
  }

  @Test
  void refusesOutputWithoutALatencyDistribution() {
    assertThrows(IllegalArgumentException.class, () -> WrkResult.parse("unable to connect to 127.0.0.1:1"));
  }
}
