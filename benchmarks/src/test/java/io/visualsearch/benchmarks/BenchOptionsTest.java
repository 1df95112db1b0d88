package io.visualsearch.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {

  @Test
  void pairsKeepTheirOrderAndValuesWithEqualsSigns() {
    BenchOptions o = new BenchOptions(new String[] {
        "--service-env=KAFKA_CLIENT_PROPERTIES=linger.ms=0,acks=all; MODEL_SERVER_BATCH_THREADS=1"});
    Map<String, String> env = o.pairs("service-env");
    assertEquals(List.of("KAFKA_CLIENT_PROPERTIES", "MODEL_SERVER_BATCH_THREADS"), List.copyOf(env.keySet()));
    assertEquals("linger.ms=0,acks=all", env.get("KAFKA_CLIENT_PROPERTIES"));
    assertEquals("1", env.get("MODEL_SERVER_BATCH_THREADS"));
    assertTrue(new BenchOptions(new String[0]).pairs("service-env").isEmpty());
  }

  @Test
  void aPairWithoutANameIsRefused() {
    BenchOptions o = new BenchOptions(new String[] {"--service-env=linger"});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.pairs("service-env"));
    assertTrue(e.getMessage().contains("--service-env"), e.getMessage());
  }
}
