package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ShardBuildBenchmarkTest {

  @Test
  void sizesAreVectorsByDimension() {
    assertEquals(List.of(new ShardBuildBenchmark.Size(1000, 64), new ShardBuildBenchmark.Size(20, 768)),
        ShardBuildBenchmark.sizes(new String[] {"1000x64", "20x768"}));
    assertEquals(3, ShardBuildBenchmark.sizes(new String[0]).size());
  }

  @Test
  void anOptionIsRefusedByNameInsteadOfReadAsASize() {
    // Other benchmarks take --name=value options; this one would have read it as "<n>x<d>".
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ShardBuildBenchmark.sizes(new String[] {"1000x64", "--threads=2"}));
    assertEquals("unknown option --threads=2", e.getMessage());
  }

  @Test
  void anythingElseNotASizeIsRefusedWithTheArgument() {
    for (String bad : List.of("1000", "1000x", "x64", "1000x64x2", "tenxsixty", "0x64")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ShardBuildBenchmark.sizes(new String[] {bad}), bad);
      assertTrue(e.getMessage().contains("'" + bad + "' is not <vectors>x<dimension>"), e.getMessage());
    }
  }
}
